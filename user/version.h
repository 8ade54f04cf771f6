/* SPDX-License-Identifier: MIT */
/*
 * The version --version prints and every JSON report carries.
 */
#ifndef LS_VERSION_H
#define LS_VERSION_H
#define LEAKSNOOP_VERSION "0.1.0"
#endif
