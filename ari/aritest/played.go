package aritest

// notePlayed remembers every media URI played to a channel or bridge, so
// tests can assert who heard what (a beep on the agent leg only, the
// abandon message to the contact). Called with s.mu held.
func (s *Server) notePlayed(target string, medias []string) {
	if s.played == nil {
		s.played = map[string][]string{}
	}
	s.played[target] = append(s.played[target], medias...)
}

// Played returns the media URIs played so far to the channel or bridge id
// (kept after the channel is gone, until Restart).
func (s *Server) Played(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.played[id]...)
}
