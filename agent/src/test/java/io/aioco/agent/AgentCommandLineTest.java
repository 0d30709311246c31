package io.aioco.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code java -jar aioco-agent.jar} and {@code --help}: the jar lists its commands and the
 * {@code -javaagent} options (with an example); an unknown command says what the commands are.
 */
class AgentCommandLineTest {
    private record Run(int exitCode, String output) {}

    private static Run run(String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int exitCode = AiocoAgent.run(args, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return new Run(exitCode, bytes.toString(StandardCharsets.UTF_8));
    }

    /** Every option {@link AgentOptions#parse} accepts, with a value where it needs one. */
    private static final List<String> AGENT_OPTIONS = List.of("verbose", "dump=DIR", "include=PREFIX",
            "exclude=PREFIX", "cache=DIR", "probes", "retransform=auto");

    @Test
    void helpListsEveryCommandAndEveryAgentOptionWithAnExample() {
        for (String help : List.of("--help", "-h", "help")) {
            Run result = run(help);
            assertEquals(0, result.exitCode(), result.output());
            for (AgentCommand command : AiocoAgent.commands()) {
                assertTrue(result.output().contains("  " + command.name() + " "), command.name() + ": " + result.output());
            }
            for (String option : AGENT_OPTIONS) {
                assertTrue(result.output().contains("  " + option), option + ": " + result.output());
                AgentOptions.parse(option.replace("DIR", "/tmp/x").replace("PREFIX", "com.example")); // accepted
            }
            assertTrue(result.output().contains("example: java -javaagent:aioco-agent.jar="), result.output());
            assertTrue(result.output().contains("java -jar aioco-agent.jar COMMAND --help"), result.output());
        }
    }

    /** The other direction: each option the help shows is one the parser takes. */
    @Test
    void everyOptionTheHelpShowsIsAccepted() {
        Matcher option = Pattern.compile("(?m)^  ([a-z]+)(=[A-Z|a-z]+)?").matcher(AgentOptions.HELP);
        int seen = 0;
        while (option.find()) {
            String value = option.group(2) == null ? ""
                    : option.group(2).contains("DIR") ? "=/tmp/x"
                    : option.group(2).matches("=[a-z]+(\\|[a-z]+)+") ? option.group(2).split("\\|")[0] // one of the words
                    : "=a.b";
            AgentOptions.parse(option.group(1) + value);
            seen++;
        }
        assertEquals(AGENT_OPTIONS.size(), seen, AgentOptions.HELP);
    }

    @Test
    void noArgumentsPrintsTheHelpAsBadUsage() {
        Run result = run();
        assertEquals(2, result.exitCode(), result.output());
        assertTrue(result.output().contains("Commands:"), result.output());
    }

    @Test
    void anUnknownCommandNamesTheCommandsAndTheHelp() {
        Run result = run("chek", "app.jar");
        assertEquals(2, result.exitCode(), result.output());
        assertTrue(result.output().contains("unknown command 'chek'; the commands are: check"), result.output());
        assertTrue(result.output().contains("java -jar aioco-agent.jar --help"), result.output());
    }

    @Test
    void helpWithACommandIsThatCommandsHelp() {
        Run result = run("help", "check");
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().startsWith("usage: java -jar aioco-agent.jar check"), result.output());
    }

    @Test
    void everyCommandAnswersHelpWithItsUsageOptionsAndAnExample() {
        for (AgentCommand command : AiocoAgent.commands()) {
            Run result = run(command.name(), "--help");
            assertEquals(0, result.exitCode(), command.name() + ": " + result.output());
            assertTrue(result.output().startsWith("usage: java -jar aioco-agent.jar " + command.name()),
                    command.name() + ": " + result.output());
            assertTrue(result.output().contains("Example:\n  java -jar aioco-agent.jar " + command.name()),
                    command.name() + ": " + result.output());
            assertTrue(result.output().contains("--help"), command.name() + ": " + result.output());
        }
    }
}
