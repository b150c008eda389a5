// Command gocqlbench is cqlbench's workload on gocql: a prepared SELECT by
// key with N requests in flight (N goroutines, each waiting for its answer
// before the next query, which is how gocql is driven concurrently), keys
// drawn uniformly, every row scanned. It prints the same RESULT line as
// build/cqlbench; cpu_s is this process's user+system CPU over the measured
// interval.
//
// Built offline from Debian's golang-github-gocql-gocql-dev (see
// mk/bench.mk): GO111MODULE=off GOPATH=<tmp>:/usr/share/gocode GOPROXY=off.
package main

import (
	"flag"
	"fmt"
	"math/rand"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gocql/gocql"
)

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec) + float64(ru.Utime.Usec)/1e6 +
		float64(ru.Stime.Sec) + float64(ru.Stime.Usec)/1e6
}

func main() {
	inflight := flag.Int("inflight", 64, "requests in flight")
	duration := flag.Float64("duration", 5, "measured seconds")
	keys := flag.Int("keys", 10000, "key space")
	conns := flag.Int("conns-per-host", 2, "connections per host")
	coalesce := flag.Duration("write-coalesce", 200*time.Microsecond, "gocql WriteCoalesceWaitTime (its default: 200us)")
	query := flag.String("query", "SELECT email, active FROM mailion.users WHERE email = ?", "CQL")
	keyFormat := flag.String("key-format", "user%d@bench.example", "key format, one %d")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: gocqlbench [flags] HOST:PORT")
		os.Exit(2)
	}
	host, portText, err := net.SplitHostPort(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	port, _ := strconv.Atoi(portText)

	cluster := gocql.NewCluster(host)
	cluster.Port = port
	cluster.ProtoVersion = 4
	cluster.NumConns = *conns
	cluster.Consistency = gocql.LocalOne
	cluster.Timeout = 2 * time.Second
	cluster.ConnectTimeout = 5 * time.Second
	cluster.WriteCoalesceWaitTime = *coalesce
	session, err := cluster.CreateSession()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gocqlbench:", err)
		os.Exit(1)
	}
	defer session.Close()

	var phase int32 // 0 warm-up, 1 measuring, 2 stop
	var done, errors, rows int64
	var wg sync.WaitGroup
	for w := 0; w < *inflight; w++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed))
			var email string
			var active bool
			for atomic.LoadInt32(&phase) < 2 {
				key := fmt.Sprintf(*keyFormat, rng.Intn(*keys))
				iter := session.Query(*query, key).Iter()
				for iter.Scan(&email, &active) {
					atomic.AddInt64(&rows, 1)
				}
				if err := iter.Close(); err != nil {
					atomic.AddInt64(&errors, 1)
					continue
				}
				if atomic.LoadInt32(&phase) == 1 {
					atomic.AddInt64(&done, 1)
				}
			}
		}(int64(w) + 1)
	}
	time.Sleep(time.Second) // warm-up: connections, prepared statement
	atomic.StoreInt64(&errors, 0)
	t0, c0 := time.Now(), cpuSeconds()
	atomic.StoreInt32(&phase, 1)
	time.Sleep(time.Duration(*duration * float64(time.Second)))
	atomic.StoreInt32(&phase, 2)
	t1, c1 := time.Now(), cpuSeconds()
	n := atomic.LoadInt64(&done)
	wg.Wait()
	secs := t1.Sub(t0).Seconds()
	cpu := c1 - c0
	per := 0.0
	if n > 0 {
		per = cpu / float64(n) * 1e5
	}
	fmt.Fprintf(os.Stderr, "gocqlbench: %d in flight, %d conns/host, %.2f s: %d requests, %d errors: %.0f/s, %.3f CPU s (%.3f s per 100k)\n",
		*inflight, *conns, secs, n, errors, float64(n)/secs, cpu, per)
	fmt.Printf("RESULT tool=gocql inflight=%d requests=%d errors=%d seconds=%.3f rps=%.1f cpu_s=%.3f cpu_per_100k=%.3f rows=%d\n",
		*inflight, n, errors, secs, float64(n)/secs, cpu, per, rows)
}
