// Package mail_test tries the email channel end to end: a real SMTP
// client sends to the server's listener, a real mail server (mailpit)
// receives what the server sends.
package mail_test
