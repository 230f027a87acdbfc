/* exe: finding the toolkit's other programs. */
#ifndef EXE_H
#define EXE_H

/* A malloc'd path to program name: beside the running program if it is
 * there and executable, else name itself (for PATH). NULL if no memory. */
char *exe_sibling(const char *name);

#endif
