// Command gocql-check drives cqld (or any Cassandra) with gocql, the Go
// driver, the way an application would, and prints what it saw as one JSON
// object on stdout. tests/e2e/test_cqld_drivers.py builds it (mk/drivers.mk,
// GOPATH mode against Debian's golang-github-gocql-gocql-dev, offline) and
// asserts on the JSON.
//
// Usage:
//
//	gocql-check -host 127.0.0.1 -port PORT [-user U -password P] [-ca FILE]
//	            [-tag NAME] [-expect-hosts N] [-dc NAME]
//	            [-keyspaces REGION [-paged DOMAIN]]
//
// Steps, each recorded in the JSON: connect (TLS when -ca is given, with
// host verification; password authentication when -user is given),
// prepare and execute with bound values an INSERT into mailion.domains
// (text, boolean) and mailion.mailboxes (text, set<text>, bigint, int),
// read those rows back and fixture rows of tests/e2e/data/driver.cql, run
// a query on a table that does not exist (its error code and message), and
// with -expect-hosts wait until connections to that many distinct
// host:port pairs were made (peers found through system.peers_v2).
//
// With -keyspaces REGION the session is set up as AWS's developer guide sets
// up gocql for Amazon Keyspaces ("Using a Cassandra Go client driver to
// access Amazon Keyspaces programmatically"): TLS with the CA but without
// host verification (the peers are addresses), SigV4 for REGION with the
// key from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, LOCAL_QUORUM, the
// region as local data center. It also records the rows of every page of
// the mailboxes of -paged DOMAIN ("pages"), of those with msgs >= 20 read
// with ALLOW FILTERING ("filtered_pages"), and the error of a read at
// QUORUM ("quorum_error").
//
// A failure to connect is reported as {"connected": false, "error": ...}
// with exit status 1; everything else exits 0 and the test decides.
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gocql/gocql"
)

const (
	requestTimeout = 10 * time.Second // per request
	hostsWait      = 10 * time.Second // for -expect-hosts
)

// connObserver records the host:port pairs gocql connected to.
type connObserver struct {
	mu    sync.Mutex
	hosts map[string]bool
}

// ObserveConnect - one dial finished
func (o *connObserver) ObserveConnect(c gocql.ObservedConnect) {
	if c.Err != nil || c.Host == nil {
		return
	}
	o.mu.Lock()
	o.hosts[net.JoinHostPort(c.Host.ConnectAddress().String(),
		strconv.Itoa(c.Host.Port()))] = true
	o.mu.Unlock()
}

// list - the hosts seen so far, sorted
func (o *connObserver) list() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := []string{}
	for h := range o.hosts {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// errInfo - the CQL error code and message of err, or its text
func errInfo(err error) map[string]interface{} {
	if err == nil {
		return nil
	}
	if re, ok := err.(gocql.RequestError); ok {
		return map[string]interface{}{"code": re.Code(),
			"message": re.Message()}
	}
	return map[string]interface{}{"code": nil, "message": err.Error()}
}

// sigv4Auth - Keyspaces' SigV4 exchange, as AWS's gocql plugin does it:
// "SigV4\0\0", then the nonce signed (AWS publishes that plugin on GitHub
// only; this is the same protocol, checked against cqld's verifier)
type sigv4Auth struct {
	keyID, secret, region string
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

func sha256Hex(data string) string {
	sum := sha256.Sum256([]byte(data))
	return hex.EncodeToString(sum[:])
}

// Challenge - the initial response (req: the authenticator's class
// name), then the signed nonce. One value serves every connection: no state.
func (a *sigv4Auth) Challenge(req []byte) ([]byte, gocql.Authenticator, error) {
	text := string(req)
	if !strings.HasPrefix(text, "nonce=") {
		if strings.Contains(text, "=") {
			return nil, nil, errors.New("unexpected SigV4 challenge " + text)
		}
		return []byte("SigV4\x00\x00"), a, nil
	}
	nonce := strings.SplitN(text[len("nonce="):], ",", 2)[0]
	now := time.Now().UTC()
	amzdate := now.Format("2006-01-02T15:04:05.000Z")
	day := now.Format("20060102")
	scope := day + "/" + a.region + "/cassandra/aws4_request"
	query := "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" +
		url.QueryEscape(a.keyID+"/"+scope) + "&X-Amz-Date=" +
		url.QueryEscape(amzdate) + "&X-Amz-Expires=900"
	canonical := "PUT\n/authenticate\n" + query + "\nhost:cassandra\n\nhost\n" +
		sha256Hex(nonce)
	toSign := "AWS4-HMAC-SHA256\n" + amzdate + "\n" + scope + "\n" +
		sha256Hex(canonical)
	key := []byte("AWS4" + a.secret)
	for _, part := range []string{day, a.region, "cassandra", "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	sig := hex.EncodeToString(hmacSHA256(key, toSign))
	return []byte("signature=" + sig + ",access_key=" + a.keyID +
		",amzdate=" + amzdate), nil, nil
}

// Success - nothing to check
func (a *sigv4Auth) Success(data []byte) error { return nil }

// pageRows - the rows of each page of the mailboxes of dom (where: more
// restrictions), and their localparts in order
func pageRows(session *gocql.Session, dom, where string) ([]int, []string, error) {
	pages, got := []int{}, []string{}
	var state []byte
	for {
		iter := session.Query("SELECT localpart FROM mailion.mailboxes "+
			"WHERE domain = ?"+where, dom).PageSize(100).PageState(state).Iter()
		n := iter.NumRows()
		var lp string
		for iter.Scan(&lp) {
			got = append(got, lp)
		}
		state = iter.PageState()
		if err := iter.Close(); err != nil {
			return pages, got, err
		}
		pages = append(pages, n)
		if len(state) == 0 {
			return pages, got, nil
		}
	}
}

func emit(res map[string]interface{}, status int) {
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	os.Exit(status)
}

func main() {
	host := flag.String("host", "127.0.0.1", "contact point")
	port := flag.Int("port", 9042, "native port")
	user := flag.String("user", "", "user (password authentication)")
	pass := flag.String("password", "", "password")
	ca := flag.String("ca", "", "CA file: speak TLS, verify the server")
	tag := flag.String("tag", "gocql", "key prefix of the rows written")
	expect := flag.Int("expect-hosts", 0, "wait for this many hosts")
	dc := flag.String("dc", "", "local data center (DC-aware routing)")
	region := flag.String("keyspaces", "", "Amazon Keyspaces settings, SigV4 for this region")
	paged := flag.String("paged", "", "with -keyspaces: page through this domain's mailboxes")
	flag.Parse()

	res := map[string]interface{}{"driver": "gocql", "connected": false}
	obs := &connObserver{hosts: map[string]bool{}}

	cluster := gocql.NewCluster(*host)
	cluster.Port = *port
	cluster.ProtoVersion = 4
	cluster.Consistency = gocql.LocalOne
	cluster.Timeout = requestTimeout
	cluster.ConnectTimeout = requestTimeout
	cluster.NumConns = 1
	cluster.ConnectObserver = obs
	if *dc != "" {
		cluster.PoolConfig.HostSelectionPolicy =
			gocql.DCAwareRoundRobinPolicy(*dc)
	}
	if *user != "" {
		cluster.Authenticator = gocql.PasswordAuthenticator{
			Username: *user, Password: *pass}
	}
	if *ca != "" {
		cluster.SslOpts = &gocql.SslOptions{CaPath: *ca,
			EnableHostVerification: true}
	}
	if *region != "" {
		cluster.Consistency = gocql.LocalQuorum
		cluster.PoolConfig.HostSelectionPolicy =
			gocql.DCAwareRoundRobinPolicy(*region)
		cluster.SslOpts.EnableHostVerification = false
		cluster.Authenticator = &sigv4Auth{keyID: os.Getenv("AWS_ACCESS_KEY_ID"),
			secret: os.Getenv("AWS_SECRET_ACCESS_KEY"), region: *region}
	}
	session, err := cluster.CreateSession()
	if err != nil {
		res["error"] = err.Error()
		emit(res, 1)
	}
	defer session.Close()
	res["connected"] = true

	// prepared (gocql prepares every DML statement) with bound values
	domain := *tag + ".example"
	err = session.Query("INSERT INTO mailion.domains (domain, active) "+
		"VALUES (?, ?)", domain, true).Exec()
	res["insert_domain_error"] = errInfo(err)
	err = session.Query("INSERT INTO mailion.mailboxes (domain, "+
		"localpart, aliases, quota, msgs) VALUES (?, ?, ?, ?, ?)",
		domain, "dave", []string{"d2", "d1"}, int64(1)<<40,
		int32(-1)<<31).Exec()
	res["insert_mailbox_error"] = errInfo(err)

	var d string
	var active bool
	err = session.Query("SELECT domain, active FROM mailion.domains "+
		"WHERE domain = ?", domain).Scan(&d, &active)
	res["domain"] = map[string]interface{}{"domain": d, "active": active,
		"error": errInfo(err)}
	err = session.Query("SELECT active FROM mailion.domains WHERE "+
		"domain = ?", "inactive.example").Scan(&active)
	res["inactive"] = map[string]interface{}{"active": active,
		"error": errInfo(err)}

	mailbox := func(dom, local string) map[string]interface{} {
		var aliases []string
		var quota int64
		var msgs int32
		err := session.Query("SELECT aliases, quota, msgs FROM "+
			"mailion.mailboxes WHERE domain = ? AND localpart = ?",
			dom, local).Scan(&aliases, &quota, &msgs)
		if aliases == nil {
			aliases = []string{}
		}
		return map[string]interface{}{"aliases": aliases,
			"quota": quota, "msgs": msgs, "error": errInfo(err)}
	}
	res["mailbox_written"] = mailbox(domain, "dave")
	res["mailbox_fixture"] = mailbox("example.com", "alice")

	var missing string
	err = session.Query("SELECT domain FROM mailion.domains WHERE "+
		"domain = ?", "missing.example").Scan(&missing)
	res["missing_is_not_found"] = err == gocql.ErrNotFound

	err = session.Query("SELECT * FROM mailion.nope WHERE k = ?",
		"x").Exec()
	res["bad_query_error"] = errInfo(err)

	if *expect > 0 {
		deadline := time.Now().Add(hostsWait)
		for len(obs.list()) < *expect && time.Now().Before(deadline) {
			_ = session.Query("SELECT key FROM system.local").Exec()
			time.Sleep(50 * time.Millisecond)
		}
	}
	if *region != "" {
		err = session.Query("SELECT active FROM mailion.domains WHERE "+
			"domain = ?", "example.com").Consistency(gocql.Quorum).Exec()
		res["quorum_error"] = errInfo(err)
		if *paged != "" {
			pages, got, err := pageRows(session, *paged, "")
			res["pages"], res["paged_rows"] = pages, got
			res["paged_error"] = errInfo(err)
			pages, got, err = pageRows(session, *paged,
				" AND msgs >= 20 ALLOW FILTERING")
			res["filtered_pages"], res["filtered_rows"] = pages, got
			res["filtered_error"] = errInfo(err)
		}
	}
	res["hosts"] = obs.list()
	emit(res, 0)
}
