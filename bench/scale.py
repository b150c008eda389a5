#!/usr/bin/python3
"""bench/scale.py - the large-scale table of bench/README.md, on paper.

    /usr/bin/python3 bench/scale.py [--lookups L] [--reads-per-rcpt R] [--entries-per-rcpt E]
                                    [--bytes-per-entry B] [--rcpts 5] [--s 1.0]

A model, not a measurement: recipients are drawn from N mailboxes with a Zipf
law of exponent s (rank i has probability i^-s / H(N,s)), each server
receives M messages/s of --rcpts recipients, and every recipient brings a few
cache keys of its own (the users entry, found, kept CACHE_TTL; the negative
address-level entries of virtual_aliases, access_maps and transport_maps,
kept CACHE_NEGATIVE_TTL). The per-recipient figures come from bench/run.py
scenario 8 (a cold run with the tuned main.cf); bytes per entry from
scenario 5. Domain-level keys (@domain, the domain in transport_maps) are
shared by every address of a domain and cost one read per TTL each:
negligible here and left out.

Two regimes, both per key with Poisson arrivals at rate lam:
  * the cache large enough that no fresh entry is evicted (TTL-bound): an
    entry fetched at a miss serves every request for TTL seconds, so the key
    costs lam / (1 + lam*TTL) reads/s and is fresh a fraction lam*TTL /
    (1 + lam*TTL) of the time (renewal argument);
  * the cache smaller than that (capacity-bound): Che's approximation of
    LRU, a key is cached if it was asked for within the characteristic time
    t, where t solves sum_k (1 - exp(-lam_k * min(t, TTL_k))) = entries.
scenario 9 of bench/run.py checks the capacity-bound side against the
daemon's own cache (hit rate measured under a Zipf load from smload).
"""
import argparse
import math

MONTH_S = 30 * 86400                # a billing month, seconds
RRU_PER_READ = 0.5                  # LOCAL_ONE read of a row under 4 KB (AWS: "Supported
                                    # Apache Cassandra read and write consistency levels")
TTL_POS_S, TTL_NEG_S = 300, 30      # CACHE_TTL, CACHE_NEGATIVE_TTL defaults
STALE_S = 3600                      # CACHE_STALE_TTL default: how long found answers cover an outage
EXACT_RANKS = 2000                  # ranks summed one by one; beyond, log-spaced buckets
BUCKET_RATIO = 1.005                # width of a bucket beyond EXACT_RANKS


def buckets(n, s):
    """(probability of one key in the bucket, keys in it) over ranks 1..n,
    summing to 1: exact for the head, log-spaced buckets for the tail (the
    weight of a bucket from the integral of x^-s)."""
    out = [(float(i) ** -s, 1) for i in range(1, min(n, EXACT_RANKS) + 1)]
    lo = EXACT_RANKS + 1
    while lo <= n:
        hi = min(n, max(lo, int(lo * BUCKET_RATIO)))
        a, b = lo - 0.5, hi + 0.5
        w = math.log(b / a) if s == 1 else (b ** (1 - s) - a ** (1 - s)) / (1 - s)
        cnt = hi - lo + 1
        out.append((w / cnt, cnt))
        lo = hi + 1
    h = sum(p * c for p, c in out)
    return [(p / h, c) for p, c in out]


def solve(f, target, lo=1e-9, hi=1e15):
    """x with f(x) = target for an increasing f, by bisection on a log scale."""
    if f(hi) <= target:
        return hi
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        if f(mid) < target:
            lo = mid
        else:
            hi = mid
    return hi


def che_hit(n, s, entries):
    """LRU hit rate (Che's approximation) of `entries` slots under Zipf(s)
    over n keys, no TTL: the capacity-only case scenario 9 measures."""
    if entries >= n:
        return 1.0
    bk = buckets(n, s)
    t = solve(lambda t: sum(c * -math.expm1(-p * t) for p, c in bk), entries)
    return sum(c * p * -math.expm1(-p * t) for p, c in bk)


def server(n, s, msgs, rcpts, keys_pos, keys_neg, entries=None, neg_ttl=TTL_NEG_S):
    """One server at msgs messages/s: (recipient-key reads/s, entries holding
    fresh answers, entries touched within STALE_S) with a cache of
    `entries` slots (None: unbounded)."""
    rate = msgs * rcpts
    bk = [(p * rate, c) for p, c in buckets(n, s)]
    classes = ((keys_pos, TTL_POS_S), (keys_neg, neg_ttl))
    if entries is None:
        t = math.inf
    else:
        t = solve(lambda t: sum(c * k * -math.expm1(-lam * min(t, ttl))
                                for lam, c in bk for k, ttl in classes), entries)
    reads = fresh = 0.0
    for lam, c in bk:
        for k, ttl in classes:
            if t >= ttl:            # TTL-bound: a read per TTL window that had a request
                reads += c * k * lam / (1 + lam * ttl)
                fresh += c * k * lam * ttl / (1 + lam * ttl)
            else:                   # evicted before it expires: Che
                reads += c * k * lam * math.exp(-lam * t)
                fresh += c * k * -math.expm1(-lam * t)
    hour = sum(c * (keys_pos + keys_neg) * -math.expm1(-lam * STALE_S) for lam, c in bk)
    return reads, fresh, hour


def table(a):
    keys_neg = max(a.reads_per_rcpt - 1.0, 0.0)   # the users entry is the one found key
    rows = ["| mailboxes | msgs/s per server | lookups/s | CACHE_MAX_ENTRIES (fresh set x1.25) | "
            "cache memory | hit rate (s=0.8 / 1.0 / 1.2) | hit rate at the default 100 000 | "
            "reads/s per server | RRU/month per server | RRU/month, 50 servers | "
            "entries for an hour of outage (memory) |",
            "|" + "---|" * 11]
    for n in (10_000, 100_000, 1_000_000, 10_000_000):
        for m in (10, 100, 1000):
            lookups = m * a.lookups
            hits, res = [], None
            for s in (0.8, 1.0, 1.2):
                r = server(n, s, m, a.rcpts, 1.0, keys_neg, neg_ttl=a.negative_ttl)
                hits.append(1 - r[0] / lookups)
                if s == a.s:
                    res = r
            reads, fresh, hour = res
            rec = int(math.ceil(fresh * 1.25 / 1000.0)) * 1000
            d_reads = server(n, a.s, m, a.rcpts, 1.0, keys_neg, entries=100_000, neg_ttl=a.negative_ttl)[0]
            rru = reads * RRU_PER_READ * MONTH_S
            rows.append(f"| {n:,} | {m:,} | {lookups:,.0f} | {rec:,} | {rec * a.bytes_per_entry / 2**20:,.1f} MB | "
                        + " / ".join(f"{h:.3f}" for h in hits)
                        + f" | {1 - d_reads / lookups:.3f} | {reads:,.1f} | {rru / 1e6:,.2f} M | "
                        f"{50 * rru / 1e6:,.1f} M | {hour:,.0f} ({hour * a.bytes_per_entry / 2**20:,.0f} MB) |")
    return "\n".join(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lookups", type=float, default=55.0, help="socketmap lookups per message (scenario 8, SCALE_STEP)")
    ap.add_argument("--reads-per-rcpt", type=float, default=5.01,
                    help="CQL reads per new recipient, cold cache (scenario 8)")
    ap.add_argument("--bytes-per-entry", type=float, default=133.0, help="RSS per cache entry (scenario 5)")
    ap.add_argument("--rcpts", type=int, default=5, help="recipients per message (the bench's)")
    ap.add_argument("--negative-ttl", type=float, default=TTL_NEG_S, help="CACHE_NEGATIVE_TTL, seconds")
    ap.add_argument("--s", type=float, default=1.0, help="Zipf exponent of the main columns")
    ap.add_argument("--che", action="store_true", help="print Che's LRU hit rates for scenario 9's grid")
    a = ap.parse_args()
    if a.che:
        for s in (0.8, 1.0, 1.2):
            print(s, [round(che_hit(100_000, s, c), 3) for c in (1000, 10_000, 50_000)])
        return
    print(table(a))


if __name__ == "__main__":
    main()
