package z;
public class Attach {
    public static void main(String[] a) throws Exception {
        System.out.println("callee used first: " + p.Callee.class.getName()); // loaded before the agent
        var vm = com.sun.tools.attach.VirtualMachine.attach(Long.toString(ProcessHandle.current().pid()));
        vm.loadAgent(a[0]);
        vm.detach();
        q.Main.main(new String[0]); // loaded after: woven, calls Callee's fresh body
    }
}
