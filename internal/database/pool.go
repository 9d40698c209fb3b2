package database

import (
	"database/sql"
	"runtime"
	"sync"
	"weak"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/switchboardhq/switchboard/ent"
)

// pools maps the clients opened here to their connection pools, whose
// statistics the metrics report (ent's client does not expose its
// *sql.DB). Weak keys, deleted when the client is collected: the map keeps no
// client or pool alive.
var pools sync.Map // weak.Pointer[ent.Client] -> *sql.DB

func newClient(dialectName string, db *sql.DB, opts []ent.Option) *ent.Client {
	c := ent.NewClient(append([]ent.Option{ent.Driver(entsql.OpenDB(dialectName, db))}, opts...)...)
	key := weak.Make(c)
	pools.Store(key, db)
	runtime.AddCleanup(c, func(k weak.Pointer[ent.Client]) { pools.Delete(k) }, key)
	return c
}

// SQLDB is the connection pool of a client opened by this package (nil
// for any other client).
func SQLDB(c *ent.Client) *sql.DB {
	db, _ := pools.Load(weak.Make(c))
	d, _ := db.(*sql.DB)
	return d
}
