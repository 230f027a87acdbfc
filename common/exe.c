/* exe: the toolkit's programs are looked for beside the one running. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exe.h"

char *
exe_sibling(const char *name)
{
	char self[PATH_MAX], buf[PATH_MAX + 64], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			snprintf(buf, sizeof buf, "%s/%s", self, name);
			if (access(buf, X_OK) == 0)
				return strdup(buf);
		}
	}
	return strdup(name);
}
