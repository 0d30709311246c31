package io.aioco;

/**
 * The FIFO of waits that CoMutex, CoQueue and CoRwLock share: waits linked through {@link
 * CoWait#next}, oldest first (QEMU's {@code CoQueue} entries). Not thread-safe: the lock that
 * guards the owner's state guards its list too; waits are only added by {@link CoWait#publish()},
 * that is after their coroutine has yielded.
 *
 * @param <W> the owner's kind of wait
 */
final class WaiterList<W extends CoWait> {
    private W head;
    private W tail;

    /** Appends {@code wait} (not in any list). */
    void add(W wait) {
        assert wait.next == null && wait != tail : wait + " is in a list already";
        if (tail == null) {
            head = wait;
        } else {
            tail.next = wait;
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
            }
            first.next = null;
        }
        return first;
    }

    /** @return whether no wait is in the list */
    boolean isEmpty() {
        return head == null;
    }
}
