package sample;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;

/** A producer and a consumer coroutine handing items over through a queue, driven round-robin. */
public final class App {
    private final Queue<Integer> queue = new ArrayDeque<>();
    private final List<String> log = new ArrayList<>();

    @CoroutineFn
    void produce(int count) {
        for (int i = 1; i <= count; i++) {
            queue.add(i);
            log.add("put " + i);
            Coroutine.yield();
        }
        queue.add(-1);
    }

    @CoroutineFn
    int take() {
        while (queue.isEmpty()) {
            Coroutine.yield();
        }
        return queue.remove();
    }

    @CoroutineFn
    void consume() {
        long sum = 0;
        for (int item = take(); item >= 0; item = take()) {
            sum += item;
            log.add("got " + item + " sum " + sum);
        }
    }

    public static void main(String[] args) {
        App app = new App();
        List<Coroutine> all = List.of(Coroutine.create(() -> app.produce(3)), Coroutine.create(app::consume));
        while (all.stream().anyMatch(co -> !co.isTerminated())) {
            for (Coroutine co : all) {
                if (!co.isTerminated()) {
                    co.enter();
                }
            }
        }
        System.out.println(String.join("; ", app.log));
    }
}
