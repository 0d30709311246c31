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

    /**
     * Takes {@code wait} out of the list wherever it is (a cancelled waiter leaving its queue).
     * Walks the list: cancellation is rare, the common paths stay O(1).
     *
     * @return false if it was not in the list (handed over or taken already)
     */
    boolean remove(W wait) {
        CoWait previous = null;
        for (CoWait at = head; at != null; previous = at, at = at.next) {
            if (at != wait) {
                continue;
            }
            @SuppressWarnings("unchecked") // every link was added as a W
            W after = (W) at.next;
            if (previous == null) {
                head = after;
            } else {
                previous.next = after;
            }
            if (tail == wait) {
                @SuppressWarnings("unchecked")
                W newTail = (W) previous;
                tail = newTail;
            }
            wait.next = null;
            return true;
        }
        return false;
    }

    /** @return whether no wait is in the list */
    boolean isEmpty() {
        return head == null;
    }
}
