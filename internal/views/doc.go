// Package views keeps saved views: a named ticket list, its filter and
// order as tickets(where:, orderBy:) take them, personal or shared with one
// of the owner's groups. A view stores no tickets and no rights: opening it
// runs its filter and order as a ticket query under the viewer's own
// context, so the privacy policies decide what each person sees, and a
// view shared with a group shows every member only the tickets in their
// own reach. Who may read, save and share views is the SavedView privacy
// policy's (internal/privacy); this package checks that what is saved can
// be run again, exactly as it was given.
package views
