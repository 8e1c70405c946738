/* The standalone commands: jail-task-driver validate|run FILE. */
#ifndef JTD_CLI_CLI_H
#define JTD_CLI_CLI_H

/* Both return the process exit status. */
int jtd_cli_validate(int argc, char **argv);
int jtd_cli_run(int argc, char **argv);

#endif
