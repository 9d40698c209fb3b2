// Package graph is the GraphQL layer: thin resolvers that translate the
// API to ent and the internal packages, the error presenter that maps
// every error to an extensions.code, and request limits. The executor in
// generated.go is produced by gqlgen from schema/*.graphql.
package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/graph/model"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/attachments"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/inbox"
	"github.com/switchboardhq/switchboard/internal/live"
	"github.com/switchboardhq/switchboard/internal/notify"
	"github.com/switchboardhq/switchboard/internal/outbox"
	"github.com/switchboardhq/switchboard/internal/search"
	"github.com/switchboardhq/switchboard/internal/ticketing"
	"github.com/switchboardhq/switchboard/internal/wallboard"
)

// Resolver holds what the resolvers call into.
type Resolver struct {
	Client     *ent.Client
	Auth       *auth.Service
	Tickets    *ticketing.Service
	Live       *live.Hub
	Search     *search.Service
	Wallboards *wallboard.Service
	// MaxPageSize also bounds nodes(ids:).
	MaxPageSize int
	// Attachments stores uploads (nil: uploadAttachment is refused).
	Attachments *attachments.Service
	// Outbox is the mail to send (nil: retryOutboxMessage finds none).
	Outbox *outbox.Outbox
}

// uploads is the attachments service, or an error when there is none.
func (r *Resolver) uploads() uploader {
	if r.Attachments == nil {
		return noUploads{}
	}
	return r.Attachments
}

type uploader interface {
	Upload(ctx context.Context, up graphql.Upload) (*ent.Attachment, error)
}

// noUploads refuses uploads on a server built without attachments.
type noUploads struct{}

func (noUploads) Upload(context.Context, graphql.Upload) (*ent.Attachment, error) {
	return nil, apierr.Errorf(apierr.Unavailable, "this server stores no attachments")
}

// NewSchema returns the executable schema served at /query; pageSize is
// what connections without first/last return, and so cost in complexity
// (0: DefaultPageSize).
func NewSchema(r *Resolver, pageSize int) graphql.ExecutableSchema {
	cfg := Config{Resolvers: r, Directives: directives()}
	if pageSize <= 0 {
		pageSize = DefaultPageSize
	}
	setConnectionComplexity(&cfg, parsedSchema, pageSize)
	return NewExecutableSchema(cfg)
}

// follows answers about following and mentions.
func (r *Resolver) follows() *notify.Service { return notify.NewService(r.Client) }

// mentionCandidates wraps users as MentionCandidates.
func mentionCandidates(users []*ent.User, err error) ([]*model.MentionCandidate, error) {
	out := make([]*model.MentionCandidate, len(users))
	for i, u := range users {
		out[i] = &model.MentionCandidate{User: u, Handle: notify.Handle(u)}
	}
	return out, err
}

// inboxService reads and marks inboxes; it holds nothing but the client,
// so resolvers built without it (tests) need not set it.
func (r *Resolver) inboxService() *inbox.Service { return inbox.New(r.Client) }
