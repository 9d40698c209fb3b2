package confidential_test

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/confidential"
)

func TestLoad(t *testing.T) {
	t.Run("EnvKeys", func(t *testing.T) {
		k2, k1 := mustKey(t, "k2"), mustKey(t, "k1")
		kr, created, err := confidential.Load(confidential.Source{EnvKeys: k2.Encode() + "," + k1.Encode()})
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if created {
			t.Fatal("Load from EnvKeys reported a created key file")
		}
		if kr.CurrentID() != "k2" {
			t.Fatalf("CurrentID = %q, want k2 (the first key)", kr.CurrentID())
		}
		// The older key still decrypts.
		old, err := mustKeyring(t, k1).Encrypt(phone, "users.phone")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := kr.Decrypt(old, "users.phone"); err != nil || got != phone {
			t.Fatalf("Decrypt(k1 value) = (%q, %v), want %q", got, err, phone)
		}
	})

	t.Run("EnvKeysWinOverKeyFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), confidential.KeyFileName)
		kr, created, err := confidential.Load(confidential.Source{EnvKeys: mustKey(t, "k5").Encode(), KeyFile: path})
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if created || kr.CurrentID() != "k5" {
			t.Fatalf("Load = (current %s, created %v), want (k5, false)", kr.CurrentID(), created)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("key file was touched although EnvKeys was set: stat err = %v", err)
		}
	})

	t.Run("BadEnvKeys", func(t *testing.T) {
		short := base64.RawURLEncoding.EncodeToString([]byte("sixteen byte key"))
		good := mustKey(t, "k1").Encode()
		goodSecret := strings.TrimPrefix(good, "k1:")
		for name, tc := range map[string]struct{ value, secret string }{
			"ShortSecret":  {"k1:" + short, short},
			"NotBase64":    {"k1:s3cr3t!not*base64", "s3cr3t!not*base64"},
			"SecretAsID":   {"TopSecretValue:" + goodSecret, "TopSecretValue"},
			"BadSecondKey": {good + ",k2:" + short, short},
			"DuplicateIDs": {good + "," + good, goodSecret},
			"OnlyCommas":   {" , ", ""},
		} {
			t.Run(name, func(t *testing.T) {
				kr, _, err := confidential.Load(confidential.Source{EnvKeys: tc.value})
				if err == nil {
					t.Fatalf("Load(%s) succeeded with keyring %v", name, kr)
				}
				if kr != nil {
					t.Fatalf("Load returned keyring %v with error %v", kr, err)
				}
				if !strings.Contains(err.Error(), "SWITCHBOARD_ENCRYPTION_KEY") {
					t.Fatalf("error %q does not mention SWITCHBOARD_ENCRYPTION_KEY", err)
				}
				if tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
					t.Fatalf("error %q reveals the secret", err)
				}
			})
		}
	})

	t.Run("KeyFile", func(t *testing.T) {
		path := confidential.KeyFilePath(filepath.Join(t.TempDir(), "data"))
		if filepath.Base(path) != confidential.KeyFileName {
			t.Fatalf("KeyFilePath = %q, want a file named %s", path, confidential.KeyFileName)
		}
		first, created, err := confidential.Load(confidential.Source{KeyFile: path})
		if err != nil {
			t.Fatalf("first Load: %v", err)
		}
		if !created {
			t.Fatal("first Load did not report creating the key file")
		}
		info, err := os.Stat(path)
		if err != nil {
			t.Fatalf("key file not created: %v", err)
		}
		if perm := info.Mode().Perm(); runtime.GOOS != "windows" && perm != 0o600 {
			t.Fatalf("key file mode %#o, want 0600", perm)
		}
		stored, err := first.Encrypt(phone, "users.phone")
		if err != nil {
			t.Fatal(err)
		}

		second, created, err := confidential.Load(confidential.Source{KeyFile: path})
		if err != nil {
			t.Fatalf("second Load: %v", err)
		}
		if created {
			t.Fatal("second Load reported creating the key file again")
		}
		if second.CurrentID() != first.CurrentID() {
			t.Fatalf("second Load current key %q, first %q", second.CurrentID(), first.CurrentID())
		}
		if got, err := second.Decrypt(stored, "users.phone"); err != nil || got != phone {
			t.Fatalf("value from the first load does not open after the second: (%q, %v)", got, err)
		}
	})

	t.Run("ErrNoKey", func(t *testing.T) {
		kr, created, err := confidential.Load(confidential.Source{})
		if !errors.Is(err, confidential.ErrNoKey) {
			t.Fatalf("Load(no source) err = %v, want ErrNoKey", err)
		}
		if kr != nil || created {
			t.Fatalf("Load(no source) = (%v, %v), want (nil, false)", kr, created)
		}
	})
}
