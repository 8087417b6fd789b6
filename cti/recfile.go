package cti

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"time"

	"github.com/ctid/ctid/ari"
)

// Asterisk reports a finished recording's duration in whole seconds (a
// 5.96 s file is "5"). The stored WAV file says it to the sample: its data
// chunk size over the byte rate. The engine asks for that when the
// Telephony can read stored files, and keeps Asterisk's figure otherwise.

// StoredRecordings is the optional Telephony capability of reading a stored
// recording's audio length.
type StoredRecordings interface {
	StoredDuration(ctx context.Context, name string) (time.Duration, error)
}

// LiveRecordings is the optional Telephony capability of asking whether a
// recording is still being made: after a websocket gap, the engine finishes
// the recordings whose RecordingFinished it missed.
type LiveRecordings interface {
	RecordingLive(ctx context.Context, name string) (bool, error)
}

// RecordingLive asks Asterisk for the live recording (404: it finished).
func (t ARITelephony) RecordingLive(ctx context.Context, name string) (bool, error) {
	_, err := t.C.Recordings.GetLive(ctx, name)
	if errors.Is(err, ari.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// RecordingLive passes through to the timed Telephony when it can.
func (t TimedTelephony) RecordingLive(ctx context.Context, name string) (bool, error) {
	if l, ok := t.T.(LiveRecordings); ok {
		return l.RecordingLive(ctx, name)
	}
	return true, errors.ErrUnsupported
}

// StoredDuration reads the stored WAV file's header.
func (t ARITelephony) StoredDuration(ctx context.Context, name string) (time.Duration, error) {
	rc, err := t.C.Recordings.DownloadStored(ctx, name)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	return wavDuration(rc)
}

// StoredDuration passes through to the timed Telephony when it can.
func (t TimedTelephony) StoredDuration(ctx context.Context, name string) (time.Duration, error) {
	if s, ok := t.T.(StoredRecordings); ok {
		return s.StoredDuration(ctx, name)
	}
	return 0, errors.ErrUnsupported
}

// wavDuration reads a RIFF/WAVE header up to the data chunk and returns
// the audio length its sizes give (the samples themselves are not read).
func wavDuration(r io.Reader) (time.Duration, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, err
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return 0, errors.New("not a WAV file")
	}
	var byteRate uint32
	for i := 0; i < 16; i++ { // a handful of chunks at most before data
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return 0, err
		}
		size := binary.LittleEndian.Uint32(ch[4:])
		switch string(ch[0:4]) {
		case "fmt ":
			if size < 16 || size > 1<<10 {
				return 0, errors.New("WAV fmt chunk of odd size")
			}
			b := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, b); err != nil {
				return 0, err
			}
			byteRate = binary.LittleEndian.Uint32(b[8:12])
		case "data":
			if byteRate == 0 {
				return 0, errors.New("WAV data before its format")
			}
			return time.Duration(int64(size) * int64(time.Second) / int64(byteRate)), nil
		default:
			if _, err := io.CopyN(io.Discard, r, int64(size+size%2)); err != nil {
				return 0, err
			}
		}
	}
	return 0, errors.New("no WAV data chunk")
}
