/*
 * A real tetherd for a test (see tetherd_proc.h): fork and exec with its log
 * in a private directory, read back line by line.
 */
#include "tetherd_proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/tetherd_leak_env.h"
#include "transport/platform/platform.h"

/* What a sanitizer prints when it finds something (AddressSanitizer,
 * LeakSanitizer, UndefinedBehaviorSanitizer). */
static const char *const sanitizer_marks[] = {
	"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
};

/* The tetherd a test started and has not stopped: a failed assertion leaves
 * the test without stopping it, tetherd_teardown() does. */
static struct tetherd running;

static uint64_t now_ms(void)
{
	return tether_time_ns() / 1000000u;
}

static void sleep_ms(unsigned ms)
{
	tether_sleep_ns((uint64_t)ms * 1000000u);
}

/* The whole log, NUL-terminated; the caller frees it. */
static char *read_log(const struct tetherd *t)
{
	FILE *f = fopen(t->log, "rb");
	if (!f)
		return calloc(1, 1);
	size_t cap = 1 << 16, len = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	for (size_t n; (n = fread(text + len, 1, cap - len - 1, f)) > 0;) {
		len += n;
		if (cap - len < 4096) {
			cap *= 2;
			text = realloc(text, cap);
			assert_non_null(text);
		}
	}
	fclose(f);
	text[len] = '\0';
	return text;
}

static void print_log(const struct tetherd *t)
{
	char *text = read_log(t);
	fprintf(stderr, "---- tetherd log (%s) ----\n%s---- end of log ----\n", t->log, text);
	free(text);
}

/* A complete line (one that ends in '\n') holding @who and @text. */
static bool has_line(const char *log, const char *who, const char *text)
{
	for (const char *line = log; *line;) {
		const char *end = strchr(line, '\n');
		if (!end)
			return false;
		const char *hit = strstr(line, text);
		bool in = hit && hit + strlen(text) <= end + 1;
		if (in && who) {
			const char *w = strstr(line, who);
			in = w && w < end;
		}
		if (in)
			return true;
		line = end + 1;
	}
	return false;
}

bool tetherd_log_has(const struct tetherd *t, const char *who, const char *text)
{
	char *log = read_log(t);
	bool found = has_line(log, who, text);
	free(log);
	return found;
}

void tetherd_expect_log(const struct tetherd *t, const char *who, const char *text)
{
	for (uint64_t end = now_ms() + TETHERD_WAIT_MS;; sleep_ms(10)) {
		if (tetherd_log_has(t, who, text))
			return;
		if (now_ms() >= end) {
			print_log(t);
			fail_msg("no tetherd log line with \"%s\"%s%s%s", text, who ? " from \"" : "", who ? who : "",
				 who ? "\"" : "");
		}
	}
}

/* The address tetherd prints once it listens, or "" before that. */
static void bound_address(const struct tetherd *t, char *addr, size_t len)
{
	char *log = read_log(t);
	const char *p = strstr(log, "listening on ");
	addr[0] = '\0';
	if (p && strchr(p, '\n')) {
		p += strlen("listening on ");
		snprintf(addr, len, "%.*s", (int)(strchr(p, '\n') - p), p);
	}
	free(log);
}

static void exec_tetherd(const struct tetherd *t, const char *const *args)
{
	const char *exe = getenv("TETHERD");
	char state[200];
	snprintf(state, sizeof(state), "%s/state", t->dir);
	/* Plaintext TCP: the hostile client speaks the session protocol itself,
	 * with no pairing or TLS under it (those have their own tests). */
	const char *argv[32] = {exe, "--listen", "127.0.0.1:0", "--insecure", "--no-advertise", "--state-dir", state};
	int n = 7;
	for (; args && *args && n < 31; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	int fd = open(t->log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (fd < 0)
		_exit(127);
	dup2(fd, 1);
	dup2(fd, 2);
	setenv("TETHER_LOG", "info", 1);
	tether_test_tetherd_leak_env();
	execv(exe, (char *const *)argv);
	_exit(127);
}

void tetherd_start(struct tetherd *t, const char *const *args)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	assert_non_null(getenv("TETHERD"));
	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "%s/tether-hostile-XXXXXX", tmp);
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->log, sizeof(t->log), "%s/tetherd.log", t->dir);
	t->pid = fork();
	assert_true(t->pid >= 0);
	if (t->pid == 0)
		exec_tetherd(t, args);
	for (uint64_t end = now_ms() + TETHERD_WAIT_MS; !t->addr[0]; sleep_ms(10)) {
		if (now_ms() >= end || waitpid(t->pid, NULL, WNOHANG) != 0) {
			print_log(t);
			fail_msg("tetherd did not start listening");
		}
		bound_address(t, t->addr, sizeof(t->addr));
	}
	running = *t;
}

static void remove_files(const struct tetherd *t)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	assert_int_equal(system(cmd), 0);
}

int tetherd_teardown(void **state)
{
	(void)state;
	if (running.pid > 0) {
		kill(running.pid, SIGTERM);
		waitpid(running.pid, NULL, 0);
	}
	memset(&running, 0, sizeof(running));
	return 0;
}

bool tetherd_alive(const struct tetherd *t)
{
	return t->pid > 0 && waitpid(t->pid, NULL, WNOHANG) == 0;
}

/* How many processes have @parent as their parent; the first in *@first. */
static int children_of(pid_t parent, pid_t *first)
{
	DIR *d = opendir("/proc");
	assert_non_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		char path[300], line[256];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		/* "pid (comm) state ppid ...": comm may hold spaces, ')' ends it. */
		if (fgets(line, sizeof(line), f)) {
			const char *p = strrchr(line, ')');
			char state;
			int ppid;
			if (p && sscanf(p + 1, " %c %d", &state, &ppid) == 2 && ppid == (int)parent && state != 'Z' &&
			    n++ == 0 && first)
				*first = (pid_t)atoi(e->d_name);
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

pid_t tetherd_session_pid(const struct tetherd *t)
{
	pid_t pid = 0;
	assert_int_equal(children_of(t->pid, &pid), 1);
	return pid;
}

void tetherd_stop(struct tetherd *t)
{
	bool alive = tetherd_alive(t);
	/* Session processes end when their connections close; each checks for
	 * leaks on its way out, into the log. */
	for (uint64_t end = now_ms() + TETHERD_WAIT_MS; alive && children_of(t->pid, NULL) > 0; sleep_ms(20)) {
		if (now_ms() >= end) {
			print_log(t);
			fail_msg("tetherd still has %d session processes after their clients left", children_of(t->pid, NULL));
		}
	}
	if (getenv("HOSTILE_SHOW_LOG"))
		print_log(t);
	char *log = read_log(t);
	for (size_t i = 0; i < sizeof(sanitizer_marks) / sizeof(sanitizer_marks[0]); i++) {
		if (strstr(log, sanitizer_marks[i])) {
			fprintf(stderr, "---- tetherd log ----\n%s---- end of log ----\n", log);
			fail_msg("tetherd's log holds a sanitizer report (\"%s\")", sanitizer_marks[i]);
		}
	}
	free(log);
	if (!alive) {
		print_log(t);
		fail_msg("tetherd (the daemon) died");
	}
	kill(t->pid, SIGTERM);
	waitpid(t->pid, NULL, 0);
	t->pid = 0;
	remove_files(t);
	memset(&running, 0, sizeof(running));
}
