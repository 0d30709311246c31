package s;
import io.aioco.*;
public class Main {
    static String out = "";
    @CoroutineFn static void body() {
        out += "f=" + A.f(4, 0L, 1.5, "a", "b") + ";";
        out += "secret=" + A.Inner.callSecret(5) + ";";
        out += "twice=" + I.twice(21) + ";";
        out += "inherited=" + Sub.inherited(1) + ";";
        out += "late=" + Late.v() + ";";
    }
    public static void main(String[] a) {
        Coroutine co = Coroutine.create(Main::body);
        int enters = 0;
        while (!co.isTerminated()) { co.enter(); enters++; }
        System.out.println(out + " enters=" + enters + " clinitRuns=" + A.clinitRuns);
    }
}
