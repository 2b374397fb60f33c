/* The helper's subcommands: one file each, dispatched from main.c. */
#ifndef APITOKEN_COMMANDS_H
#define APITOKEN_COMMANDS_H

int cmd_introspect(int argc, char **argv);
int cmd_cache(int argc, char **argv);

#endif
