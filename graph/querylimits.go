package graph

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"

	"github.com/switchboardhq/switchboard/internal/apierr"
)

// QueryLimits refuses operations over the query limits before any
// resolver runs: the document's tokens are counted before it is parsed,
// everything else is checked on the validated operation (fragments
// expanded). Refusals carry QUERY_TOO_COMPLEX (400) naming the limit.
// It also refuses introspection when that is off (FORBIDDEN), and
// mutations and subscriptions sent over plain GET (METHOD_NOT_ALLOWED,
// 405).
// Use it after Complexity(), whose measurement it checks.
type QueryLimits struct {
	MaxDepth              int
	MaxComplexity         int
	MaxAliases            int
	MaxFields             int
	MaxDirectivesPerField int
	MaxTokens             int
	MaxOperations         int
	// Introspection allows __schema and __type.
	Introspection bool
}

// DefaultQueryLimits are the limits of the settings' defaults.
var DefaultQueryLimits = QueryLimits{
	MaxDepth: 15, MaxComplexity: 10000, MaxAliases: 50, MaxFields: 300,
	MaxDirectivesPerField: 5, MaxTokens: 5000, MaxOperations: 10,
}

var (
	_ graphql.HandlerExtension          = QueryLimits{}
	_ graphql.OperationParameterMutator = QueryLimits{}
	_ graphql.OperationContextMutator   = QueryLimits{}
)

// ExtensionName names the extension.
func (QueryLimits) ExtensionName() string { return "QueryLimits" }

// Validate checks the configuration.
func (l QueryLimits) Validate(graphql.ExecutableSchema) error {
	if l.MaxDepth < 1 || l.MaxComplexity < 1 || l.MaxAliases < 1 || l.MaxFields < 1 || l.MaxDirectivesPerField < 1 || l.MaxTokens < 1 || l.MaxOperations < 1 {
		return fmt.Errorf("QueryLimits: every limit must be at least 1: %+v", l)
	}
	return nil
}

// MutateOperationParameters counts the document's tokens, stopping at the
// limit, so that a huge document is refused without being parsed.
func (l QueryLimits) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	if n := CountTokens(params.Query, l.MaxTokens+1); n > l.MaxTokens {
		return refuse(ctx, apierr.QueryTooComplex, fmt.Sprintf("the query has more than %d tokens (SWITCHBOARD_MAX_QUERY_TOKENS)", l.MaxTokens))
	}
	return nil
}

// CountTokens returns the number of lexical tokens of a GraphQL document,
// counting no further than stop. A document that does not lex counts the
// tokens before the fault (the parser then reports it).
func CountTokens(doc string, stop int) int {
	lex := lexer.New(&ast.Source{Input: doc})
	n := 0
	for n < stop {
		tok, err := lex.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			break
		}
		n++
	}
	return n
}

// MutateOperationContext checks the validated operation.
func (l QueryLimits) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if n := len(rc.Doc.Operations); n > l.MaxOperations {
		return refuse(ctx, apierr.QueryTooComplex, fmt.Sprintf("the document has %d operations; at most %d are allowed (SWITCHBOARD_MAX_OPERATIONS_PER_REQUEST)", n, l.MaxOperations))
	}
	if safeMethodFrom(ctx) && rc.Operation.Operation != ast.Query {
		return refuse(ctx, apierr.MethodNotAllowed, fmt.Sprintf("a %s cannot be sent with GET; use POST", rc.Operation.Operation))
	}
	m := measureOperation(rc.Doc, rc.Operation)
	switch {
	case m.introspection && !l.Introspection:
		return refuse(ctx, apierr.Forbidden, "introspection is disabled on this server (SWITCHBOARD_INTROSPECTION)")
	case m.depth > l.MaxDepth:
		return refuse(ctx, apierr.QueryTooComplex, fmt.Sprintf("the operation is nested %d levels deep; at most %d are allowed (SWITCHBOARD_MAX_QUERY_DEPTH)", m.depth, l.MaxDepth))
	case m.aliases > l.MaxAliases:
		return refuse(ctx, apierr.QueryTooComplex, fmt.Sprintf("the operation has %s aliases; at most %d are allowed (SWITCHBOARD_MAX_QUERY_ALIASES)", count(m.aliases), l.MaxAliases))
	case m.fields > l.MaxFields:
		return refuse(ctx, apierr.QueryTooComplex, fmt.Sprintf("the operation selects %s fields; at most %d are allowed (SWITCHBOARD_MAX_QUERY_FIELDS)", count(m.fields), l.MaxFields))
	case m.directives > l.MaxDirectivesPerField:
		return refuse(ctx, apierr.QueryTooComplex, fmt.Sprintf("a field has %d directives; at most %d are allowed (SWITCHBOARD_MAX_DIRECTIVES_PER_FIELD)", m.directives, l.MaxDirectivesPerField))
	}
	if stats, ok := rc.Stats.GetExtension(complexityExtensionName).(*extension.ComplexityStats); ok && stats.Complexity > l.MaxComplexity {
		return refuse(ctx, apierr.QueryTooComplex, fmt.Sprintf("the operation has complexity %s; at most %d is allowed (SWITCHBOARD_MAX_QUERY_COMPLEXITY; connections count first/last times their fields)", count(stats.Complexity), l.MaxComplexity))
	}
	return nil
}

// complexityExtensionName is the name gqlgen's ComplexityLimit keeps its
// measurement under.
const complexityExtensionName = "ComplexityLimit"

func count(n int) string {
	if n == math.MaxInt {
		return "too many"
	}
	return fmt.Sprint(n)
}

// refuse is the error of an operation refused as a whole: its code, and
// the HTTP status of that code for the response.
func refuse(ctx context.Context, code apierr.Code, msg string) *gqlerror.Error {
	if h := responseHintFrom(ctx); h != nil {
		h.set(apierr.HTTPStatus(code), 0)
	}
	return NewError(apierr.Errorf(code, "%s", msg))
}

// operationMeasure is what the limits look at.
type operationMeasure struct {
	depth, aliases, fields int
	// directives is the most directives on one selection.
	directives    int
	introspection bool
}

// add folds b, the measure of a selection nested at depth d, into m.
func (m *operationMeasure) add(b operationMeasure, d int) {
	m.depth = max(m.depth, b.depth+d)
	m.aliases = saturatingAdd(m.aliases, b.aliases)
	m.fields = saturatingAdd(m.fields, b.fields)
	m.directives = max(m.directives, b.directives)
	m.introspection = m.introspection || b.introspection
}

// measureOperation measures op with its fragments expanded. Each
// fragment is measured once and its measure reused at every spread, so
// that fragments spreading each other many times cost the server nothing
// while still counting every field they expand to. Fragment cycles are
// refused by validation before; a cycle met here counts as nothing.
func measureOperation(doc *ast.QueryDocument, op *ast.OperationDefinition) operationMeasure {
	memo := map[string]*operationMeasure{}
	var selectionSet func(ast.SelectionSet) operationMeasure
	fragment := func(name string) operationMeasure {
		if m, ok := memo[name]; ok {
			if m == nil {
				return operationMeasure{} // a cycle
			}
			return *m
		}
		memo[name] = nil
		def := doc.Fragments.ForName(name)
		var m operationMeasure
		if def != nil {
			m = selectionSet(def.SelectionSet)
		}
		memo[name] = &m
		return m
	}
	selectionSet = func(set ast.SelectionSet) operationMeasure {
		var m operationMeasure
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				m.add(operationMeasure{fields: 1, directives: len(s.Directives),
					introspection: s.Name == "__schema" || s.Name == "__type"}, 0)
				if s.Alias != "" && s.Alias != s.Name {
					m.aliases = saturatingAdd(m.aliases, 1)
				}
				m.add(selectionSet(s.SelectionSet), 1)
				m.depth = max(m.depth, 1)
			case *ast.InlineFragment:
				m.add(operationMeasure{directives: len(s.Directives)}, 0)
				m.add(selectionSet(s.SelectionSet), 0)
			case *ast.FragmentSpread:
				m.add(operationMeasure{directives: len(s.Directives)}, 0)
				m.add(fragment(s.Name), 0)
			}
		}
		return m
	}
	return selectionSet(op.SelectionSet)
}

// suggestion is gqlparser's "Did you mean …?" tail of validation messages.
var suggestion = regexp.MustCompile(`\s*Did you mean [^?]*\?`)

// WithoutSuggestions wraps an error presenter so that messages carry no
// "Did you mean …" suggestions, which tell a stranger the schema's names.
func WithoutSuggestions(present graphql.ErrorPresenterFunc) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		e := present(ctx, err)
		e.Message = suggestion.ReplaceAllString(e.Message, "")
		return e
	}
}

// OperationDeadline gives each query and mutation d to produce its
// response; resolvers still running then see their context end, and
// their fields fail with TIMEOUT. Subscriptions, which wait for events
// without end, have no deadline.
func OperationDeadline(d time.Duration) graphql.ResponseMiddleware {
	return func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		if !graphql.HasOperationContext(ctx) {
			return next(ctx)
		}
		// Refused operations (validation errors) have none.
		if op := graphql.GetOperationContext(ctx).Operation; op == nil || op.Operation == ast.Subscription {
			return next(ctx)
		}
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		return next(ctx)
	}
}

type safeMethodKey struct{}

// WithSafeMethod marks ctx as a request over GET, which may only query.
func WithSafeMethod(ctx context.Context) context.Context {
	return context.WithValue(ctx, safeMethodKey{}, true)
}

func safeMethodFrom(ctx context.Context) bool {
	b, _ := ctx.Value(safeMethodKey{}).(bool)
	return b
}
