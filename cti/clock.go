package cti

import "time"

// Clock is the engine's time source, so the simulation test can run a day of
// calls in a second.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer stops a pending AfterFunc.
type Timer interface{ Stop() bool }

// RealClock is wall-clock time.
type RealClock struct{}

func (RealClock) Now() time.Time                            { return time.Now() }
func (RealClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
