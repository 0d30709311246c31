package io.aioco.internal.loop;

import java.util.Arrays;

/**
 * The pending timers of one clock in one AioContext, earliest first: QEMU's {@code
 * QEMUTimerList}, as a binary min-heap instead of a sorted list so that arming is O(log n).
 *
 * <p>Timers with equal deadlines fire in the order they were armed, as QEMU's list insertion
 * does: ties are broken by a sequence number taken at arming time.
 *
 * <p>Not thread-safe: every method is called with the owning {@link TimerGroup}'s lock held.
 */
public final class TimerQueue {
    /** One timer's place in the queue. Its fields are guarded by the group lock. */
    public static final class Entry {
        final Runnable callback;
        final int clock;
        /** The deadline while queued; published for lock-free readers such as isPending(). */
        volatile long expireNs;
        /** Position in the heap, -1 when not queued. Written under the lock, read lock-free. */
        volatile int index = -1;
        long seq;

        public Entry(int clock, Runnable callback) {
            this.clock = clock;
            this.callback = callback;
        }

        /** Called from any thread: whether the timer is armed. */
        public boolean isQueued() {
            return index >= 0;
        }

        /** Called from any thread: the deadline, meaningful only while {@link #isQueued()}. */
        public long expireNs() {
            return expireNs;
        }

        public Runnable callback() {
            return callback;
        }
    }

    private Entry[] heap = new Entry[8];
    /** Written under the lock; volatile so that the loop can skip an empty queue without locking. */
    private volatile int size;
    private long nextSeq;

    /** @return how many timers are armed (any thread: a volatile read, for coroutine dumps) */
    public int size() {
        return size;
    }

    /** Arms or re-arms {@code e}; returns whether it is now the earliest timer. Lock held. */
    boolean schedule(Entry e, long expireNs) {
        if (e.index >= 0) {
            removeAt(e.index);
        }
        e.expireNs = expireNs;
        e.seq = nextSeq++;
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        heap[size] = e;
        e.index = size;
        size++;
        siftUp(e.index);
        return heap[0] == e;
    }

    /** Disarms {@code e} if armed. Lock held. */
    void remove(Entry e) {
        if (e.index >= 0) {
            removeAt(e.index);
        }
    }

    /** The earliest entry, or null. Lock held. */
    Entry peek() {
        return size == 0 ? null : heap[0];
    }

    /** The sequence number the next arming will take. Lock held. */
    long nextSeq() {
        return nextSeq;
    }

    /** Called from any thread, without the lock: a hint, exact only under the lock. */
    boolean isEmpty() {
        return size == 0;
    }

    /** A copy of the armed entries, in heap order. Lock held. */
    java.util.List<Entry> entries() {
        java.util.List<Entry> out = new java.util.ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            out.add(heap[i]);
        }
        return out;
    }

    /** Drops every entry (context closing). Lock held. */
    void clear() {
        for (int i = 0; i < size; i++) {
            heap[i].index = -1;
            heap[i] = null;
        }
        size = 0;
    }

    private void removeAt(int i) {
        Entry removed = heap[i];
        size--;
        Entry last = heap[size];
        heap[size] = null;
        removed.index = -1;
        if (i != size) {
            heap[i] = last;
            last.index = i;
            siftDown(i);
            if (heap[i] == last) {
                siftUp(i);
            }
        }
    }

    private static boolean before(Entry a, Entry b) {
        // NOTE: deadlines are compared by difference, as nanoTime values must be: REALTIME
        // deadlines may be negative or wrap.
        long d = a.expireNs - b.expireNs;
        return d < 0 || (d == 0 && a.seq < b.seq);
    }

    private void siftUp(int i) {
        Entry e = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            Entry p = heap[parent];
            if (!before(e, p)) {
                break;
            }
            heap[i] = p;
            p.index = i;
            i = parent;
        }
        heap[i] = e;
        e.index = i;
    }

    private void siftDown(int i) {
        Entry e = heap[i];
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            int right = child + 1;
            if (right < size && before(heap[right], heap[child])) {
                child = right;
            }
            if (!before(heap[child], e)) {
                break;
            }
            heap[i] = heap[child];
            heap[i].index = i;
            i = child;
        }
        heap[i] = e;
        e.index = i;
    }
}
