package io.aioco.examples;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;

/**
 * A small tour of aioco's coroutines: a producer and a consumer written as straight-line code that
 * hand items to each other through a queue, driven by a round-robin loop. Run it under the agent
 * (see README.md).
 */
public final class Demo {
    private final Queue<String> queue = new ArrayDeque<>();
    private final List<String> log = new ArrayList<>();

    @CoroutineFn
    private void produce(int count) {
        for (int i = 1; i <= count; i++) {
            String item = "item-" + i;
            queue.add(item);
            log.add("produced " + item);
            Coroutine.yield(); // let the consumer run
        }
        queue.add("EOF");
    }

    @CoroutineFn
    private String take() {
        while (queue.isEmpty()) {
            Coroutine.yield(); // wait for the producer
        }
        return queue.remove();
    }

    @CoroutineFn
    private void consume() {
        int total = 0;
        for (String item = take(); !item.equals("EOF"); item = take()) {
            total += item.length();
            log.add("consumed " + item + " (running total " + total + ")");
        }
        log.add("consumer done, total " + total);
    }

    /**
     * Runs the demo.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        Demo demo = new Demo();
        List<Coroutine> coroutines = List.of(
                Coroutine.create(() -> demo.produce(5)),
                Coroutine.create(demo::consume));
        int rounds = 0;
        while (coroutines.stream().anyMatch(co -> !co.isTerminated())) {
            for (Coroutine co : coroutines) {
                if (!co.isTerminated()) {
                    co.enter();
                }
            }
            rounds++;
        }
        demo.log.forEach(System.out::println);
        System.out.println("two coroutines, " + rounds + " scheduler rounds, no threads");
    }
}
