package io.aioco.internal.loop;

import java.util.concurrent.atomic.AtomicBoolean;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.Test;

/**
 * Model checking (Lincheck) of the one step of the handshake that {@code HandshakeModelTest} cannot
 * reach through a whole context: a wait that announced {@link Poller#WAIT_PARK}, applied the first
 * channel's handler and switches its announcement to {@link Poller#WAIT_SELECT} ({@link
 * Poller#reannounce}), against wakers that set a handler meanwhile (runtime/DESIGN.md, "The
 * notify/kick handshake", the row where the waker's CAS on {@code WAIT_PARK} fails).
 *
 * <p>The loop side runs the steps of {@link Poller#waitForEvents} up to the block: announce,
 * apply the updates published so far (here: read the flag the wakers set), re-announce. A waker
 * publishes its update (the flag), then does what {@code setFdHandler} does: {@link
 * Poller#notifyChange()}. The invariant, checked after every interleaving: an update the loop did
 * not apply has cleared the announcement, so the wait it would block in returns at once. A waker
 * that reads {@code WAIT_PARK} and then loses its CAS to the re-announcement breaks it (issue 14's
 * lost fd wake-up, second form): the loop would block in select without the new channel.
 */
public class ReannounceModelTest {
    private final Poller poller = new Poller(null, null); // never waits: the steps only
    /** A handler set by another thread, not yet applied by the loop (FdTable's pending updates). */
    private final AtomicBoolean updatePending = new AtomicBoolean();
    /** Loop thread only: whether the wait ran, and whether its apply step saw the update. */
    private boolean waited;
    private boolean appliedUpdate;

    public ReannounceModelTest() {
        poller.useFdTable(new FdTable()); // no selector: a WAIT_SELECT wake-up is a no-op here
    }

    @Operation
    public void setHandlerOnReadableChannel() {
        updatePending.set(true);
        poller.notifyChange();
    }

    /** The loop: one wait that adds its first channel, so it switches from park to select. */
    @Operation(nonParallelGroup = "loop")
    public void waitSwitchingFromParkToSelect() {
        if (waited) {
            return;
        }
        waited = true;
        poller.setWaiter(Thread.currentThread());
        poller.announce(Poller.WAIT_PARK);
        appliedUpdate = updatePending.get(); // applyUpdates: the first (idle) channel, and ours if published
        poller.reannounce(Poller.WAIT_PARK, Poller.WAIT_SELECT);
    }

    @Validate
    public void anUpdateTheWaitMissedClearedItsAnnouncement() {
        if (waited && !appliedUpdate && updatePending.get() && poller.announcement() != Poller.NOT_WAITING) {
            throw new AssertionError("a handler set during the wait was neither applied by it nor woke it:"
                    + " the loop would block in select without the channel (announcement "
                    + poller.announcement() + ")");
        }
    }

    @Test
    void aWakerThatLosesItsCasToTheReannouncementStillWakesTheLoop() {
        new ModelCheckingOptions()
                // two threads: the loop against one waker, or two wakers; a third only widens the search
                .iterations(Integer.getInteger("aioco.lincheck.iterations", 2))
                .invocationsPerIteration(200)
                .threads(2)
                .actorsPerThread(1)
                .actorsBefore(0)
                .actorsAfter(0)
                .check(getClass());
    }
}
