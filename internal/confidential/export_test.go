package confidential

import "entgo.io/ent/schema/field"

// OpenScanned opens a value scanned into a confidential field's ScanValue,
// as Driver does after each row, so the scanner can be tested without a
// database.
func OpenScanned(v field.ValueScanner, k *Keyring) {
	if c, ok := v.(*cell); ok {
		c.open(k)
	}
}
