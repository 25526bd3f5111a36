/*
 * The `handshake` command: the demo on the in-memory network, and serve /
 * connect on a real TUN or TAP device. Exit status: 0 success, 1 failure,
 * 2 usage error.
 */
#include <stdio.h>
#include <string.h>

#include "demo.h"
#include "netcmd.h"
#include "report.h"

#ifndef HSK_VERSION_STRING
#define HSK_VERSION_STRING "0.1.0"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"usage: handshake <command> [options]\n"
		"\n"
		"handshake is a userspace TCP/IP stack; this program shows it at work.\n"
		"\n"
		"commands:\n"
		"  demo [--scenario NAME] [--format text|json] [--seed N] [--loss P]\n"
		"                 run a TCP scenario on an in-memory network and draw it\n"
		"  demo --list    list the scenarios\n"
		"  serve (--tun NAME | --tap NAME) --addr A.B.C.D/PREFIX [options]\n"
		"                 a server (echo, discard, http, send) on a real device\n"
		"  connect (--tun NAME | --tap NAME) --addr A.B.C.D/PREFIX HOST:PORT ...\n"
		"                 a client on a real device\n"
		"  report TRACE -o OUT.html\n"
		"                 draw a trace (JSON lines or pcap) as one HTML page\n"
		"  version        print the version\n"
		"  help           this help (also --help, -h)\n"
		"\n"
		"'handshake COMMAND --help' describes a command's options.\n");
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("handshake %s\n", HSK_VERSION_STRING);
		return 0;
	}
	if (!strcmp(cmd, "demo"))
		return demo_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "serve"))
		return cmd_serve(argc - 1, argv + 1);
	if (!strcmp(cmd, "connect"))
		return cmd_connect(argc - 1, argv + 1);
	if (!strcmp(cmd, "report"))
		return report_main(argc - 1, argv + 1);
	fprintf(stderr, "handshake: unknown %s '%s'\nTry 'handshake --help'.\n",
		cmd[0] == '-' ? "option" : "command", cmd);
	return 2;
}
