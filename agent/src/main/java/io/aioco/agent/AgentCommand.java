package io.aioco.agent;

import java.io.PrintStream;

/**
 * One command of the agent jar's command line ({@code java -jar aioco-agent.jar NAME ARGS...}): its
 * name, the line {@code --help} shows for it, and what runs it. The commands are listed in {@link
 * AiocoAgent#commands()}; a new command is one more entry there (its own {@code --help} is its
 * business: every command answers {@code --help} with all its options and an example).
 *
 * <p>No QEMU counterpart. Immutable; a command runs on the thread of {@code main}.
 *
 * @param name the word after {@code aioco-agent.jar} that selects the command
 * @param summary one line for the jar's {@code --help}: what the command does
 * @param runner runs the command
 */
record AgentCommand(String name, String summary, Runner runner) {

    /** Runs a command with its arguments (the command's name left out). */
    @FunctionalInterface
    interface Runner {
        /**
         * @param out where the command prints its results and its errors
         * @param args the arguments after the command's name
         * @return the process exit code: 0 success, 1 findings, 2 bad usage or unreadable input
         */
        int run(PrintStream out, String[] args);
    }
}
