package io.aioco;

/**
 * The FIFO of waits that CoMutex, CoQueue and CoRwLock share: waits doubly linked through {@link
 * CoWait#next} and {@link CoWait#prev}, oldest first (QEMU's {@code CoQueue} entries). Adding,
 * taking the oldest and removing any wait (a cancelled waiter leaving) are all O(1). Not
 * thread-safe: the lock that guards the owner's state guards its list too; waits are only added by
 * {@link CoWait#publish()}, that is after their coroutine has yielded. A wait is in at most one
 * list, its owner's.
 *
 * @param <W> the owner's kind of wait
 */
final class WaiterList<W extends CoWait> {
    private W head;
    private W tail;

    /** Appends {@code wait} (not in any list). */
    void add(W wait) {
        assert wait.next == null && wait.prev == null && wait != head : wait + " is in a list already";
        if (tail == null) {
            head = wait;
        } else {
            tail.next = wait;
            wait.prev = tail;
        }
        tail = wait;
    }

    /** @return the oldest wait, still in the list, or null */
    W peek() {
        return head;
    }

    /** @return the oldest wait, taken out of the list, or null */
    @SuppressWarnings("unchecked") // every link was added as a W
    W poll() {
        W first = head;
        if (first != null) {
            head = (W) first.next;
            if (head == null) {
                tail = null;
            } else {
                head.prev = null;
            }
            first.next = null;
        }
        return first;
    }

    /**
     * Takes {@code wait} out of the list wherever it is (a cancelled waiter leaving its queue), in
     * O(1): cancelling N queued waiters costs O(N), not O(N^2).
     *
     * @return false if it was not in the list (handed over or taken already)
     */
    @SuppressWarnings("unchecked") // every link was added as a W
    boolean remove(W wait) {
        CoWait before = wait.prev;
        if (before == null && head != wait) {
            return false; // NOTE: only the head of a list has no predecessor
        }
        CoWait after = wait.next;
        if (before == null) {
            head = (W) after;
        } else {
            before.next = after;
        }
        if (after == null) {
            tail = (W) before;
        } else {
            after.prev = before;
        }
        wait.next = null;
        wait.prev = null;
        return true;
    }

    /** @return whether no wait is in the list */
    boolean isEmpty() {
        return head == null;
    }
}
