/*
 * key_hash - the seeded hash of a (map id, key) pair (pure)
 *
 * SYNOPSIS
 *	#include "key_hash.h"
 *
 *	uint64_t key_hash(uint64_t seed, uint32_t map_id, const char *key,
 *			  size_t len);
 *
 * DESCRIPTION
 *	FNV-1a over the map id and the key bytes, started from a seed, then
 *	a splitmix64 finaliser so the low bits (the ones a power-of-two
 *	table uses for its buckets) depend on every input byte. The cache
 *	and the engine's table of reads in flight each keep their own
 *	random seed, so a client cannot aim keys at one bucket.
 */
#ifndef PAC_KEY_HASH_H
#define PAC_KEY_HASH_H

#include <stddef.h>
#include <stdint.h>

/* key_hash - seeded hash of (map_id, key[0..len)) */
uint64_t key_hash(uint64_t seed, uint32_t map_id, const char *key, size_t len);

#endif
