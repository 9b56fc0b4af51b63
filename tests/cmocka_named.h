/*
 * One CTest test per behaviour: a cmocka program runs the test named by its
 * first argument (or all of them), and refuses a name it does not have, so a
 * misspelt test in CMake fails instead of passing with nothing run.
 */
#ifndef TETHER_TESTS_CMOCKA_NAMED_H
#define TETHER_TESTS_CMOCKA_NAMED_H

#include <stdio.h>
#include <string.h>

#define TETHER_CMOCKA_MAIN(tests)                                                      \
	int main(int argc, char **argv)                                                \
	{                                                                              \
		if (argc > 1) {                                                        \
			size_t i, n = sizeof(tests) / sizeof(tests[0]);                \
			for (i = 0; i < n && strcmp(tests[i].name, argv[1]); i++)     \
				;                                                      \
			if (i == n) {                                                  \
				fprintf(stderr, "no test named %s\n", argv[1]);        \
				return 2;                                              \
			}                                                              \
			cmocka_set_test_filter(argv[1]);                               \
		}                                                                      \
		return cmocka_run_group_tests(tests, NULL, NULL);                      \
	}

#endif
