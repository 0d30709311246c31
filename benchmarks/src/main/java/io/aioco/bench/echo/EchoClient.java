package io.aioco.bench.echo;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * The client side of the echo benchmark (issue 21): C connections in closed loop, one message of S
 * bytes in flight per connection. A connection sends its message, waits until all S bytes have come
 * back (and checks that they are the bytes it sent), records the round trip's latency and sends the
 * next one at once.
 *
 * <pre>
 * java -cp benchmarks/target/aioco-benchmarks-jmh.jar io.aioco.bench.echo.EchoClient \
 *     --port P --conns C --size S --seconds T --warmup W [--threads K] [--host ADDR] [--server-pid PID]
 * </pre>
 *
 * <p>The connections are driven by K NIO selector threads (default: as many as there are
 * connections, at most the number of processors), each owning every K-th connection. Round trips
 * that end during the first W seconds are not counted; those that end in the next T seconds are
 * counted and their latencies (send to last byte back, {@link System#nanoTime}) recorded in an
 * HdrHistogram per thread, merged at the end. Prints one line:
 *
 * <pre>
 * RESULT conns=C size=S seconds=T round_trips=N rps=R p50_us=.. p99_us=.. p999_us=.. max_us=.. threads=K
 *     server_cpu_us_per_rt=.. client_cpu_us_per_rt=..
 * </pre>
 *
 * <p>The last two are the CPU time (user + system) that the server process (given by {@code
 * --server-pid}, read from {@code /proc}; "-" without it) and this JVM spent in the measured
 * seconds, per counted round trip: unlike the rate, they hardly depend on what else the machine
 * runs, so they compare servers on a loaded machine too.
 *
 * <p>Exits with status 1, naming the connection, if a connection fails, is closed by the server or
 * gets back bytes other than those it sent.
 */
public final class EchoClient {
    /** The highest latency the histograms track: 60 s, in ns. */
    private static final long HIGHEST_NS = TimeUnit.SECONDS.toNanos(60);

    private EchoClient() {
    }

    /**
     * Connects, runs the warm-up and the measurement, and prints the result line.
     *
     * @param args {@code --port P --conns C --size S --seconds T --warmup W [--threads K] [--host ADDR]
     *     [--server-pid PID]}
     * @throws Exception if connecting fails or a thread is interrupted
     */
    public static void main(String[] args) throws Exception {
        String host = "127.0.0.1";
        int port = -1;
        int conns = 1;
        int size = 64;
        double seconds = 5;
        double warmup = 2;
        int threads = 0;
        long serverPid = 0;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            if (value == null) {
                usage("option " + args[i] + " needs a value");
            }
            switch (args[i]) {
                case "--host" -> host = value;
                case "--port" -> port = Integer.parseInt(value);
                case "--conns" -> conns = Integer.parseInt(value);
                case "--size" -> size = Integer.parseInt(value);
                case "--seconds" -> seconds = Double.parseDouble(value);
                case "--warmup" -> warmup = Double.parseDouble(value);
                case "--threads" -> threads = Integer.parseInt(value);
                case "--server-pid" -> serverPid = Long.parseLong(value);
                default -> usage("unknown option " + args[i]);
            }
            i++;
        }
        if (port < 0 || conns < 1 || size < 8 || seconds <= 0 || warmup < 0 || threads < 0) {
            usage("--port is required; --conns >= 1, --size >= 8, --seconds > 0, --warmup >= 0");
        }
        if (threads == 0) {
            threads = Math.min(conns, Runtime.getRuntime().availableProcessors());
        }
        threads = Math.min(threads, conns);

        InetSocketAddress server = new InetSocketAddress(host, port);
        Driver[] drivers = new Driver[threads];
        for (int t = 0; t < threads; t++) {
            drivers[t] = new Driver(t);
        }
        for (int c = 0; c < conns; c++) {
            drivers[c % threads].add(new Connection(c, connect(server, c), size));
        }

        long warmupNs = (long) (warmup * 1e9);
        long measureNs = (long) (seconds * 1e9);
        long startNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
        long measureStartNs = startNs + warmupNs;
        long endNs = measureStartNs + measureNs;
        Thread[] running = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            Driver driver = drivers[t];
            running[t] = new Thread(() -> driver.run(startNs, measureStartNs, endNs), "echo-client-" + t);
            running[t].start();
        }
        // CPU time over the measured window: the server's (from /proc, when its pid is given) and ours
        sleepUntil(measureStartNs);
        long serverCpuStart = serverCpuNs(serverPid);
        long clientCpuStart = ownCpuNs();
        sleepUntil(endNs);
        long serverCpuEnd = serverCpuNs(serverPid);
        long clientCpuEnd = ownCpuNs();
        Histogram latencies = new Histogram(HIGHEST_NS, 3);
        long roundTrips = 0;
        for (int t = 0; t < threads; t++) {
            running[t].join();
            Driver driver = drivers[t];
            if (driver.failure != null) {
                System.err.println("EchoClient: " + driver.failure);
                System.exit(1);
            }
            latencies.add(driver.latencies);
            roundTrips += driver.roundTrips;
        }
        for (Driver driver : drivers) {
            driver.close();
        }
        double rps = roundTrips / seconds;
        System.out.printf(Locale.ROOT,
                "RESULT conns=%d size=%d seconds=%s round_trips=%d rps=%.0f p50_us=%.1f p99_us=%.1f p999_us=%.1f"
                        + " max_us=%.1f threads=%d server_cpu_us_per_rt=%s client_cpu_us_per_rt=%s%n",
                conns, size, seconds, roundTrips, rps, micros(latencies.getValueAtPercentile(50)),
                micros(latencies.getValueAtPercentile(99)), micros(latencies.getValueAtPercentile(99.9)),
                micros(latencies.getMaxValue()), threads, perRoundTrip(serverCpuStart, serverCpuEnd, roundTrips),
                perRoundTrip(clientCpuStart, clientCpuEnd, roundTrips));
    }

    /** CPU microseconds per round trip between two readings, or "-" when either is unknown. */
    private static String perRoundTrip(long startNs, long endNs, long roundTrips) {
        if (startNs < 0 || endNs < 0 || roundTrips == 0) {
            return "-";
        }
        return String.format(Locale.ROOT, "%.2f", (endNs - startNs) / 1000.0 / roundTrips);
    }

    private static void sleepUntil(long deadlineNs) throws InterruptedException {
        long left;
        while ((left = deadlineNs - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    /** This JVM's CPU time (user + system), ns; -1 if the JVM does not tell. */
    private static long ownCpuNs() {
        java.lang.management.OperatingSystemMXBean os =
                java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : -1;
    }

    /**
     * The CPU time (user + system) of process {@code pid} from {@code /proc/PID/stat}, ns, counted
     * in the kernel's 100 Hz ticks ({@code USER_HZ}: 10 ms resolution); -1 when {@code pid} is 0
     * or the file cannot be read.
     */
    private static long serverCpuNs(long pid) {
        if (pid <= 0) {
            return -1;
        }
        try {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc", Long.toString(pid), "stat"));
            // the fields after the command name (in parentheses, may hold spaces) start with field 3
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(fields[14 - 3]) + Long.parseLong(fields[15 - 3]); // utime, stime
            return ticks * 10_000_000L;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static double micros(long ns) {
        return ns / 1000.0;
    }

    private static SocketChannel connect(InetSocketAddress server, int id) {
        try {
            SocketChannel channel = SocketChannel.open();
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            channel.connect(server);
            channel.configureBlocking(false);
            return channel;
        } catch (IOException e) {
            System.err.println("EchoClient: connection " + id + " to " + server + " failed: " + e);
            System.exit(1);
            return null;
        }
    }

    private static void usage(String problem) {
        System.err.println("EchoClient: " + problem);
        System.err.println("usage: EchoClient --port P --conns C --size S --seconds T --warmup W [--threads K]"
                + " [--host ADDR] [--server-pid PID]");
        System.exit(64);
    }

    /** One connection: its message going out, the echo coming back, when the round trip started. */
    private static final class Connection {
        final int id;
        final SocketChannel channel;
        final ByteBuffer out;
        final ByteBuffer in;
        long sequence;
        long sentNs;
        SelectionKey key;

        Connection(int id, SocketChannel channel, int size) {
            this.id = id;
            this.channel = channel;
            this.out = ByteBuffer.allocateDirect(size);
            this.in = ByteBuffer.allocateDirect(size);
            for (int i = 0; i < size; i++) {
                out.put(i, (byte) (i * 31 + id));
            }
        }
    }

    /** A selector thread driving its share of the connections. */
    private static final class Driver {
        final int index;
        final List<Connection> connections = new ArrayList<>();
        final Histogram latencies = new Histogram(HIGHEST_NS, 3);
        long roundTrips;
        /** What went wrong, read by main after join; null if nothing. */
        String failure;
        Selector selector;

        Driver(int index) {
            this.index = index;
        }

        void add(Connection connection) {
            connections.add(connection);
        }

        void run(long startNs, long measureStartNs, long endNs) {
            try {
                selector = Selector.open();
                for (Connection c : connections) {
                    c.key = c.channel.register(selector, SelectionKey.OP_READ, c);
                }
                while (System.nanoTime() < startNs) {
                    Thread.onSpinWait();
                }
                for (Connection c : connections) {
                    send(c);
                }
                while (true) {
                    selector.select(10);
                    long now = System.nanoTime();
                    if (now >= endNs) {
                        return;
                    }
                    Iterator<SelectionKey> ready = selector.selectedKeys().iterator();
                    while (ready.hasNext()) {
                        SelectionKey key = ready.next();
                        ready.remove();
                        Connection c = (Connection) key.attachment();
                        if (key.isWritable()) {
                            writeRest(c);
                        }
                        if (key.isReadable() && receive(c)) {
                            long done = System.nanoTime();
                            if (done >= measureStartNs && done < endNs) {
                                latencies.recordValue(Math.min(done - c.sentNs, HIGHEST_NS));
                                roundTrips++;
                            }
                            send(c);
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                if (failure == null) {
                    failure = "driver " + index + ": " + e;
                }
            }
        }

        /** Starts a round trip: stamps the message with its sequence number and writes what fits. */
        private void send(Connection c) throws IOException {
            c.out.clear();
            c.out.putLong(0, ++c.sequence);
            c.in.clear();
            c.sentNs = System.nanoTime();
            writeRest(c);
        }

        /** Writes what is left of the message; waits for writability while the socket is full. */
        private void writeRest(Connection c) throws IOException {
            c.channel.write(c.out);
            int wanted = c.out.hasRemaining() ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ;
            if (c.key.interestOps() != wanted) {
                c.key.interestOps(wanted);
            }
        }

        /** Reads what has come back; true once the whole message has, checked against what was sent. */
        private boolean receive(Connection c) throws IOException {
            int read = c.channel.read(c.in);
            if (read < 0) {
                throw new IOException("connection " + c.id + ": the server closed it after " + c.in.position()
                        + " of " + c.in.capacity() + " bytes of round trip " + c.sequence);
            }
            if (c.in.hasRemaining()) {
                return false;
            }
            c.in.flip();
            c.out.clear();
            int mismatch = c.in.mismatch(c.out);
            if (mismatch >= 0) {
                throw new IOException("connection " + c.id + ": byte " + mismatch + " of round trip " + c.sequence
                        + " came back different from what was sent");
            }
            return true;
        }

        void close() {
            for (Connection c : connections) {
                try {
                    c.channel.close();
                } catch (IOException e) {
                    // leaving anyway
                }
            }
            try {
                if (selector != null) {
                    selector.close();
                }
            } catch (IOException e) {
                // leaving anyway
            }
        }
    }
}
