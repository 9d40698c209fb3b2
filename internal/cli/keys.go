package cli

import (
	"context"
	"fmt"

	"github.com/switchboardhq/switchboard/internal/app"
	"github.com/switchboardhq/switchboard/internal/confidential"
	"github.com/switchboardhq/switchboard/internal/config"
	"github.com/switchboardhq/switchboard/internal/database"
)

const keysUsage = `Usage: switchboard keys generate | keys rotate [settings]

generate prints a new key for SWITCHBOARD_ENCRYPTION_KEY (numbered after
the keys it already holds). rotate, in embedded mode, adds a new current
key to the data directory's key file; then, in both modes, re-encrypts
every confidential field under the current key.`

func keys(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "keys", keysUsage)
	args, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return usageErrorf("usage: switchboard keys generate|rotate")
	}
	switch args[0] {
	case "generate":
		var known []confidential.Key
		if v := env.Getenv("SWITCHBOARD_ENCRYPTION_KEY"); v != "" {
			cur, older, err := confidential.ParseKeys(v)
			if err != nil {
				return config.Errorf("SWITCHBOARD_ENCRYPTION_KEY: %v", err)
			}
			known = append(older, cur)
		}
		k, err := confidential.GenerateKey(confidential.NextKeyID(known...))
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, k.Encode())
		return nil
	case "rotate":
		return withData(ctx, env, f, func(d *app.Data) error {
			client, keys := d.Client, d.Keys
			if d.Config.EncryptionKey == "" {
				path := confidential.KeyFilePath(d.Config.DataDir)
				rotated, next, err := confidential.RotateKeyFile(path)
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "new current key %s written to %s (older keys kept for decryption)\n", next.ID, path)
				// d.Client seals with the keys it was opened with; the
				// values are rewritten by a client given the new ones.
				keys = rotated
				c, _, err := database.OpenWith(d.Config.DatabaseURL, d.Config.DataDir, app.Pool(d.Config), keys)
				if err != nil {
					return err
				}
				defer c.Close()
				client = c
			}
			n, err := confidential.Reencrypt(ctx, client)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "re-encrypted %d confidential values under key %s\n", n, keys.CurrentID())
			return nil
		})
	}
	return usageErrorf("unknown keys command %q (generate or rotate)", args[0])
}
