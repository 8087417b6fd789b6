package sipphone

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Thresholds for what a person hears, in linear 16-bit sample units, over a
// window of one second. Every party sends its tone at peak Amplitude (RMS
// 5,657). Measured on Asterisk 22.10.1 (TestAsteriskSIPPhoneKit logs the
// figures): through a two-party mixing bridge the far party's tone arrives
// at 5,620-5,650 component RMS and the party's own tone at < 25; the
// dialplan's im-sorry prompt shows RMS ≈ 2,850 with its strongest 50 Hz
// bin holding 19-36 % of the power and ≤ 380 (≤ 2 % of the power) at each
// test tone; music on hold (the first file of the default class) shows RMS
// 1,300-2,300, its strongest bin 33-51 %, ≤ 230 at 1000, 1400 and 1800 Hz
// (≤ 1 %) but up to 1,190 (38 %) at 600 Hz; a tone alone puts > 99 % in
// its bin; a bridge nobody talks into is digital silence (RMS 0, packets
// still flowing). The thresholds sit far from all of these.
const (
	// Amplitude is the peak of the tones a Call plays (-12 dBFS).
	Amplitude = 8000
	// HearMin: a tone whose component RMS reaches this is heard.
	HearMin = 1000
	// AbsentMax: a tone whose component RMS stays below this is not heard.
	AbsentMax = 150
	// SilenceMax: total RMS below this is silence.
	SilenceMax = 60
	// SoundMin: total RMS at or above this is something audible.
	SoundMin = 200
	// ToneShareMin: a window whose strongest 50 Hz bin holds at least this
	// share of the power is a tone; music and speech stay below.
	ToneShareMin = 0.8
	// ToneShareMax: in broadband sound, a tone holding less than this
	// share of the power is not heard (prompts measured ≤ 2 % at the test
	// tones, music ≤ 1 % at 1000-1800 Hz; a party at HearMin over music
	// holds ≥ 20 %). Music can carry a lot at 600 Hz (38 % measured), so
	// do not ask WaitBroadband to exclude the customer's tone from it.
	ToneShareMax = 0.1
)

const (
	sampleRate = 8000
	blockLen   = 160 // 20 ms, the packet size: bins fall every 50 Hz
)

type frame struct {
	at  time.Time
	pcm []int16
}

// Level is what a person heard over a window: the far end's audio as
// decoded from RTP, frames placed by arrival time. Packets that never came
// count as silence.
type Level struct {
	// From and To bound the window.
	From, To time.Time
	// RMS of all audio over the whole window.
	RMS float64
	// Packets is the number of audio packets that arrived in the window.
	Packets int

	frames  []frame
	samples int // the window's length in samples (or more if more came)
}

func newLevel(from, to time.Time, frames []frame) Level {
	l := Level{From: from, To: to, frames: frames, Packets: len(frames)}
	got := 0
	var sum float64
	for _, f := range frames {
		got += len(f.pcm)
		for _, v := range f.pcm {
			x := float64(v)
			sum += x * x
		}
	}
	l.samples = max(got, int(to.Sub(from).Seconds()*sampleRate))
	if l.samples > 0 {
		l.RMS = math.Sqrt(sum / float64(l.samples))
	}
	return l
}

// LevelOf is the Level of a stretch of 8 kHz 16-bit audio that did not
// come from a call, such as a recording downloaded from ARI; its window
// is the audio's own length, starting at the zero time.
func LevelOf(pcm []int16) Level {
	var fs []frame
	for p := 0; p < len(pcm); p += blockLen {
		fs = append(fs, frame{pcm: pcm[p:min(p+blockLen, len(pcm))]})
	}
	d := time.Duration(len(pcm)) * time.Second / sampleRate
	return newLevel(time.Time{}, time.Time{}.Add(d), fs)
}

// Tone is the RMS of the component at hz (Goertzel over each 20 ms block,
// the blocks' powers averaged over the window), in the same units as RMS:
// a pure tone of RMS r alone gives Tone ≈ RMS ≈ r.
func (l Level) Tone(hz float64) float64 {
	if l.samples == 0 {
		return 0
	}
	var energy float64 // sum over blocks of component power × block length
	for _, f := range l.frames {
		for p := 0; p < len(f.pcm); p += blockLen {
			b := f.pcm[p:min(p+blockLen, len(f.pcm))]
			a := goertzelAmplitude(b, hz)
			energy += a * a / 2 * float64(len(b))
		}
	}
	return math.Sqrt(energy / float64(l.samples))
}

// ToneShare is the share of the window's power in the component at hz.
func (l Level) ToneShare(hz float64) float64 {
	if l.RMS == 0 {
		return 0
	}
	r := l.Tone(hz) / l.RMS
	return r * r
}

// Hears reports whether the tone at hz is heard in this window.
func (l Level) Hears(hz float64) bool { return l.Tone(hz) >= HearMin }

// Silent reports whether the window is silence.
func (l Level) Silent() bool { return l.RMS < SilenceMax }

// Peak returns the strongest 50 Hz bin between 100 and 3,500 Hz and the
// share of the power (in those bins) it holds: near 1 for a single tone,
// low for music or speech.
func (l Level) Peak() (hz, share float64) {
	const lo, hi = 2, 70
	var power [hi + 1]float64
	for _, f := range l.frames {
		for p := 0; p+blockLen <= len(f.pcm); p += blockLen {
			b := f.pcm[p : p+blockLen]
			for k := lo; k <= hi; k++ {
				a := goertzelAmplitude(b, float64(k*sampleRate/blockLen))
				power[k] += a * a
			}
		}
	}
	var total, best float64
	bestK := 0
	for k := lo; k <= hi; k++ {
		total += power[k]
		if power[k] > best {
			best, bestK = power[k], k
		}
	}
	if total == 0 {
		return 0, 0
	}
	return float64(bestK * sampleRate / blockLen), best / total
}

// Broadband reports audible sound that is not a single tone: music on
// hold, a prompt, speech.
func (l Level) Broadband() bool {
	if l.RMS < SoundMin {
		return false
	}
	_, share := l.Peak()
	return share < ToneShareMin
}

// String shows the window's figures and the four test tones.
func (l Level) String() string {
	var b strings.Builder
	hz, share := l.Peak()
	fmt.Fprintf(&b, "RMS %.0f (%d packets), peak %.0f Hz %.0f%%", l.RMS, l.Packets, hz, share*100)
	for _, f := range []float64{600, 1000, 1400, 1800} {
		fmt.Fprintf(&b, ", %.0f Hz %.0f", f, l.Tone(f))
	}
	return b.String()
}

// goertzelAmplitude is the amplitude of the hz component of block b.
func goertzelAmplitude(b []int16, hz float64) float64 {
	n := len(b)
	if n == 0 {
		return 0
	}
	w := 2 * math.Pi * hz / sampleRate
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range b {
		s := float64(v) + coeff*s1 - s2
		s2, s1 = s1, s
	}
	re := s1 - s2*math.Cos(w)
	im := s2 * math.Sin(w)
	return 2 * math.Sqrt(re*re+im*im) / float64(n)
}
