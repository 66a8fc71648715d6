package framework

import (
	"fmt"
	"slices"
	"sync"
)

// Indicator subscriber slots. The engine holds at most maxSubscribers;
// without a finer rule one client could take them all and lock SystemUI,
// which draws the indicator Art. 31 requires, out of its own feed. So:
// every connection may hold at most subsPerConn; roles other than the
// ones the indicator exists for share maxSubscribers - reservedSubs and
// hold at most subsPerUID per uid; systemui and framework may use every
// slot, the reserved ones included.
const (
	maxSubscribers = 64
	reservedSubs   = 16
	subsPerConn    = 4
	subsPerUID     = 16
)

// reservedSubRoles are the roles the reserved slots are kept for.
var reservedSubRoles = []Role{RoleSystemUI, RoleFramework}

// subSlots counts the slots held, by connection and by uid.
type subSlots struct {
	mu     sync.Mutex
	conn   map[<-chan struct{}]int // by the connection's Done channel
	uid    map[int]int             // non-reserved roles only
	shared int                     // slots held by non-reserved roles
}

// take claims a slot for actor on the connection identified by conn and
// returns its release, or an error saying which limit was reached.
func (s *subSlots) take(a Actor, conn <-chan struct{}) (func(), error) {
	reserved := slices.Contains(reservedSubRoles, a.Role)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		s.conn, s.uid = map[<-chan struct{}]int{}, map[int]int{}
	}
	switch {
	case s.conn[conn] >= subsPerConn:
		return nil, fmt.Errorf("this connection already holds %d indicator subscriptions (the limit per connection)", subsPerConn)
	case !reserved && s.uid[a.UID] >= subsPerUID:
		return nil, fmt.Errorf("uid %d already holds %d indicator subscriptions (the limit per uid)", a.UID, subsPerUID)
	case !reserved && s.shared >= maxSubscribers-reservedSubs:
		return nil, fmt.Errorf("the %d indicator subscriber slots open to role %s are taken (%d are kept for %v)", maxSubscribers-reservedSubs, a.Role, reservedSubs, reservedSubRoles)
	}
	s.conn[conn]++
	if !reserved {
		s.uid[a.UID]++
		s.shared++
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.conn[conn]--; s.conn[conn] <= 0 {
				delete(s.conn, conn)
			}
			if !reserved {
				if s.uid[a.UID]--; s.uid[a.UID] <= 0 {
					delete(s.uid, a.UID)
				}
				s.shared--
			}
		})
	}, nil
}
