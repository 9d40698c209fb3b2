package attachments

import "time"

// SetClock sets the time the service reads (uploads' times, the sweep's
// cutoff).
func SetClock(s *Service, now func() time.Time) { s.now = now }
