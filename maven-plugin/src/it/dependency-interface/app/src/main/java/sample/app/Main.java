package sample.app;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.util.ArrayList;
import java.util.List;
import sample.api.Source;

public final class Main {
    @CoroutineFn
    static void drain(Source<String> source, List<String> out) {
        for (String value = source.next(); value != null; value = source.next()) {
            out.add(value);
        }
    }

    public static void main(String[] args) {
        List<String> out = new ArrayList<>();
        Coroutine co = Coroutine.create(() -> drain(new Countdown(3), out));
        int enters = 0;
        while (!co.isTerminated()) {
            co.enter();
            enters++;
        }
        System.out.println(out + " in " + enters + " enters");
    }
}
