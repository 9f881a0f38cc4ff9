package reproduce

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The server-like workloads' drivers (Workload.Drive).

// pipeFile returns a driver writing the input file dir/name into the program's standard
// input: the requests arrive on a pipe, as they would from a client.
func pipeFile(name string) func(context.Context, string, io.Writer) error {
	return func(ctx context.Context, dir string, stdin io.Writer) error {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := io.Copy(stdin, f); err != nil {
			return fmt.Errorf("writing %s to the program: %w", name, err)
		}
		return nil
	}
}

// redisDriver returns a driver that connects to the Redis server's Unix socket dir/sock
// (waiting for the server to create it), sends the requests of dir/file (one a line,
// words separated by spaces) in batches of batch, reading a reply to each request before
// sending the next batch, and ends with the file's last request, SHUTDOWN NOSAVE, which
// the server answers by closing the connection.
func redisDriver(sock, file string, batch int) func(context.Context, string, io.Writer) error {
	return func(ctx context.Context, dir string, _ io.Writer) error {
		conn, err := dialWait(ctx, filepath.Join(dir, sock))
		if err != nil {
			return err
		}
		defer conn.Close()
		stop := context.AfterFunc(ctx, func() { conn.Close() })
		defer stop()
		f, err := os.Open(filepath.Join(dir, file))
		if err != nil {
			return err
		}
		defer f.Close()
		return driveRESP(bufio.NewScanner(f), conn, batch)
	}
}

// driveRESP sends the requests read from in to conn in batches of batch, each batch's
// replies read before the next; a SHUTDOWN request is answered by the connection's end.
// An error reply is an error naming the request's line.
func driveRESP(in *bufio.Scanner, conn io.ReadWriter, batch int) error {
	r := bufio.NewReader(conn)
	w := bufio.NewWriter(conn)
	line := 0
	var pending []int // the lines of the requests sent and not answered
	flush := func(shutdown bool) error {
		if err := w.Flush(); err != nil {
			return fmt.Errorf("sending requests (line %d): %w", line, err)
		}
		for i, l := range pending {
			if shutdown && i == len(pending)-1 {
				if _, err := readReply(r); !errors.Is(err, io.EOF) {
					return fmt.Errorf("request line %d (SHUTDOWN): the server did not close the connection: %v", l, err)
				}
				break
			}
			reply, err := readReply(r)
			if err != nil {
				return fmt.Errorf("reply to request line %d: %w", l, err)
			}
			if strings.HasPrefix(reply, "-") {
				return fmt.Errorf("request line %d: the server answered %s", l, reply[1:])
			}
		}
		pending = pending[:0]
		return nil
	}
	for in.Scan() {
		line++
		words := strings.Fields(in.Text())
		if len(words) == 0 {
			continue
		}
		if _, err := w.Write(encodeRESP(words)); err != nil {
			return err
		}
		pending = append(pending, line)
		shutdown := strings.EqualFold(words[0], "SHUTDOWN")
		if shutdown || len(pending) == batch {
			if err := flush(shutdown); err != nil {
				return err
			}
		}
		if shutdown {
			return nil
		}
	}
	if err := in.Err(); err != nil {
		return fmt.Errorf("requests, line %d: %w", line+1, err)
	}
	return flush(false)
}

// dialWait connects to the Unix socket at path, trying again every 50 ms while the
// server has not created it yet, until ctx ends.
func dialWait(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "unix", path)
		if err == nil {
			return c, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connecting to %s: %w (last: %v)", path, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// encodeRESP encodes a request as the Redis protocol's array of bulk strings.
func encodeRESP(words []string) []byte {
	b := []byte("*" + strconv.Itoa(len(words)) + "\r\n")
	for _, w := range words {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(w)), 10)
		b = append(b, "\r\n"...)
		b = append(b, w...)
		b = append(b, "\r\n"...)
	}
	return b
}

// readReply reads one reply of the Redis protocol and returns it in short: a simple
// string, error or integer as sent ("+OK", "-ERR ...", ":3"), a bulk string as "$" and its
// length ("$-1" for none), an array as "*" and its count after reading its elements. It
// returns io.EOF when the connection ends before a reply.
func readReply(r *bufio.Reader) (string, error) {
	l, err := r.ReadString('\n')
	if err != nil {
		if errors.Is(err, io.EOF) && l == "" {
			return "", io.EOF
		}
		return "", fmt.Errorf("reading a reply: %w", err)
	}
	l = strings.TrimSuffix(strings.TrimSuffix(l, "\n"), "\r")
	if l == "" {
		return "", fmt.Errorf("empty reply line")
	}
	switch l[0] {
	case '+', '-', ':':
		return l, nil
	case '$', '*':
		n, err := strconv.Atoi(l[1:])
		if err != nil {
			return "", fmt.Errorf("reply %q: bad length", l)
		}
		if l[0] == '$' {
			if n >= 0 {
				if _, err := io.CopyN(io.Discard, r, int64(n)+2); err != nil {
					return "", fmt.Errorf("reply %q: %w", l, err)
				}
			}
			return l, nil
		}
		for range max(n, 0) {
			if _, err := readReply(r); err != nil {
				return "", err
			}
		}
		return l, nil
	}
	return "", fmt.Errorf("reply %q: unknown type %q", l, l[0])
}
