package s;
public class Sub extends Sup { static { System.out.println("Sub.<clinit>"); } }
