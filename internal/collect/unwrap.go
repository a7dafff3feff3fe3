package collect

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Wrapping names what Unwrap found around the LogEvents.
type Wrapping string

const (
	Plain       Wrapping = ""            // LogEvents as they are (NDJSON or an array)
	EventBridge Wrapping = "eventbridge" // Amazon EventBridge records, the LogEvent in "detail"
	EventHook   Wrapping = "eventhook"   // Okta event hook deliveries, the LogEvents in "data.events"
)

// peekBytes is how much of the input Unwrap looks at to tell the wrappings
// apart: the first record, unless it is very large.
const peekBytes = 1 << 20

// Unwrap returns the LogEvents of r as NDJSON when r holds Log Streaming
// records of Amazon EventBridge (as an S3 archive or a Firehose delivery
// writes them: one record per line, or an array) or saved event-hook
// deliveries; otherwise it returns r's content unchanged. The check reads
// the first record only, so plain exports pass through without being
// parsed twice.
func Unwrap(r io.Reader) (io.Reader, Wrapping, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(peekBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, Plain, err
	}
	w := sniff(head)
	if w == Plain {
		return br, Plain, nil
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(unwrap(br, w, pw)) }()
	return pr, w, nil
}

// sniff decodes the first JSON value (or the first element of an array).
func sniff(head []byte) Wrapping {
	dec := json.NewDecoder(bytes.NewReader(head))
	tok, err := dec.Token()
	if err != nil {
		return Plain
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' && d != '{' {
		return Plain
	} else if d == '[' {
		if !dec.More() {
			return Plain
		}
	} else {
		dec = json.NewDecoder(bytes.NewReader(head))
	}
	var first struct {
		DetailType *string          `json:"detail-type"`
		Detail     json.RawMessage  `json:"detail"`
		EventType  string           `json:"eventType"`
		Data       *json.RawMessage `json:"data"`
	}
	if err := dec.Decode(&first); err != nil {
		return Plain
	}
	switch {
	case first.DetailType != nil && len(first.Detail) > 0:
		return EventBridge
	case first.EventType == "com.okta.event_hook" && first.Data != nil:
		return EventHook
	}
	return Plain
}

func unwrap(r *bufio.Reader, w Wrapping, out io.Writer) error {
	bw := bufio.NewWriterSize(out, 64<<10)
	var first byte
	for {
		b, err := r.ReadByte()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if b != ' ' && b != '\t' && b != '\r' && b != '\n' {
			first = b
			r.UnreadByte()
			break
		}
	}
	dec := json.NewDecoder(r)
	if first == '[' {
		dec.Token() // the array's '['; records follow
	}
	for n := 1; dec.More(); n++ {
		if err := writeRecord(dec, w, n, bw); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// writeRecord decodes one record and writes its LogEvents, one a line.
func writeRecord(dec *json.Decoder, w Wrapping, n int, bw *bufio.Writer) error {
	switch w {
	case EventBridge:
		var rec struct {
			Detail json.RawMessage `json:"detail"`
		}
		if err := dec.Decode(&rec); err != nil {
			return fmt.Errorf("EventBridge record %d: %w", n, err)
		}
		if len(rec.Detail) == 0 {
			return fmt.Errorf("EventBridge record %d: no detail", n)
		}
		bw.Write(rec.Detail)
		bw.WriteByte('\n')
	case EventHook:
		var rec struct {
			Data struct {
				Events []json.RawMessage `json:"events"`
			} `json:"data"`
		}
		if err := dec.Decode(&rec); err != nil {
			return fmt.Errorf("event hook delivery %d: %w", n, err)
		}
		for _, e := range rec.Data.Events {
			bw.Write(e)
			bw.WriteByte('\n')
		}
	}
	return nil
}
