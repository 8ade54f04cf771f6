/* SPDX-License-Identifier: MIT */
/*
 * A walk over a BPF hash map, key by key: for the maps that are read whole
 * and seldom (threads, goroutine sites, the program's mmap regions).
 */
#ifndef LS_MAP_WALK_H
#define LS_MAP_WALK_H

#include <stdbool.h>
#include <stddef.h>

/* Largest key and value a walk carries. */
#define MAP_WALK_MAX_KEY 16
#define MAP_WALK_MAX_VALUE 128

/*
 * Call each(key, value, arg) for the entries of hash map fd, at most max of
 * them (a key deleted during the walk makes the kernel start again from the
 * first key, and max keeps that finite); each returns false to stop.
 * Returns how many entries were visited.
 */
size_t map_walk(int fd, size_t key_size, size_t value_size, size_t max,
		bool (*each)(const void *key, const void *value, void *arg), void *arg);

#endif
