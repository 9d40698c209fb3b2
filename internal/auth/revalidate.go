package auth

import (
	"context"
	"fmt"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/apitoken"
	"github.com/switchboardhq/switchboard/ent/session"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// revalidateBatch bounds the ids of one IN (...) query.
const revalidateBatch = 500

// Revalidate checks viewers that were authenticated earlier and are still
// connected (websockets, event streams): it returns, in the same order,
// each viewer as it is now (role and groups re-read), or nil where the
// session or token was revoked or expired or the user deactivated. It
// costs a few queries per 500 viewers, whatever their number.
//
// An open connection is use of its session: the idle timeout is not
// applied, and each live session's last use is renewed at the rate of
// requests (sessionRenewal), so that the session still works for the
// requests of the page that holds the connection. The absolute timeout
// applies.
func (s *Service) Revalidate(ctx context.Context, viewers []*viewer.Viewer) ([]*viewer.Viewer, error) {
	sys := viewer.SystemContext(ctx)
	var userIDs, sessionIDs, tokenIDs []globalid.ID
	seen := map[globalid.ID]bool{}
	add := func(list *[]globalid.ID, id globalid.ID) {
		if id != "" && !seen[id] {
			seen[id] = true
			*list = append(*list, id)
		}
	}
	for _, v := range viewers {
		add(&userIDs, v.UserID)
		add(&sessionIDs, v.SessionID)
		add(&tokenIDs, v.TokenID)
	}
	now := s.now()
	users := map[globalid.ID]*ent.User{}
	err := inBatches(userIDs, func(ids []globalid.ID) error {
		q := s.client.User.Query().Where(user.IDIn(ids...), user.Active(true))
		credentialColumns(q)
		found, err := q.All(sys)
		for _, u := range found {
			users[u.ID] = u
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("revalidating users: %w", err)
	}
	liveSessions := map[globalid.ID]bool{}
	renewBefore := now.Add(-s.sessionRenewal())
	var renew []globalid.ID
	err = inBatches(sessionIDs, func(ids []globalid.ID) error {
		found, err := s.client.Session.Query().
			Where(session.IDIn(ids...), session.RevokedAtIsNil(), session.ExpiresAtGT(now)).
			Select(session.FieldID, session.FieldLastUsedAt).All(sys)
		for _, x := range found {
			liveSessions[x.ID] = true
			if x.LastUsedAt.Before(renewBefore) {
				renew = append(renew, x.ID)
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("revalidating sessions: %w", err)
	}
	// Written only when due, so most revalidations write nothing; the
	// condition again in the update lets one of several instances holding
	// connections of a session write it.
	err = inBatches(renew, func(ids []globalid.ID) error {
		return s.client.Session.Update().
			Where(session.IDIn(ids...), session.LastUsedAtLT(renewBefore)).
			SetLastUsedAt(now).Exec(sys)
	})
	if err != nil {
		return nil, fmt.Errorf("renewing sessions in use: %w", err)
	}
	liveTokens := map[globalid.ID]*ent.APIToken{}
	err = inBatches(tokenIDs, func(ids []globalid.ID) error {
		found, err := s.client.APIToken.Query().
			Where(apitoken.IDIn(ids...), apitoken.RevokedAtIsNil(),
				apitoken.Or(apitoken.ExpiresAtIsNil(), apitoken.ExpiresAtGT(now))).All(sys)
		for _, x := range found {
			liveTokens[x.ID] = x
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("revalidating API tokens: %w", err)
	}
	out := make([]*viewer.Viewer, len(viewers))
	for i, v := range viewers {
		u := users[v.UserID]
		switch {
		case u == nil:
		case v.SessionID != "" && liveSessions[v.SessionID]:
			out[i] = viewerOf(u, v.SessionID)
		case v.TokenID != "" && liveTokens[v.TokenID] != nil:
			out[i] = viewerOf(u, "")
			out[i].TokenID = v.TokenID
			out[i].ReadOnly = liveTokens[v.TokenID].Scope == apitoken.ScopeREAD
		}
	}
	return out, nil
}

func inBatches(ids []globalid.ID, fn func([]globalid.ID) error) error {
	for len(ids) > 0 {
		n := min(len(ids), revalidateBatch)
		if err := fn(ids[:n]); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}
