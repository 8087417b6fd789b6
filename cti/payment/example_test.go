package payment_test

import (
	"context"
	"fmt"
	"time"

	"github.com/ctid/ctid/cti/payment"
)

// How the engine drives a payment: one Capture per payment session, fed
// with the customer's ChannelDtmfReceived digits; the agent sees only
// Progress; Wipe after the gateway answers.
func Example() {
	gw, err := payment.New(payment.Config{Kind: "sandbox", Currency: "GBP"})
	if err != nil {
		panic(err)
	}
	c := payment.NewCapture()
	defer c.Wipe() // hang-up / session end

	for _, d := range "4242424242424242#123" { // ChannelDtmfReceived.digit
		if err := c.Digit(d); err != nil {
			fmt.Println("rejected:", err)
		}
	}
	fmt.Println(c.Progress()) // push to the agent's screen

	amount, _ := payment.ParseAmount("12.34", "GBP")
	month, year, _ := payment.ParseExpiry("12/30")
	req := payment.Request{
		Reference: "ORD-1", Amount: amount, Currency: "GBP",
		CardholderName: "Jo Bloggs", ExpiryMonth: month, ExpiryYear: year,
	}.WithCard(c)
	if err := req.Validate(time.Now(), "GBP"); err != nil {
		fmt.Println("400:", err)
		return
	}
	res, err := gw.Charge(context.Background(), req)
	c.Wipe()
	fmt.Println(res.Approved, res.Receipt, res.DeclineReason, err)
	fmt.Println(c.Progress().Phase)
	// Output:
	// card phase=complete digits=16 brand=visa last4=4242 valid=true cvv=3/3 cvv_valid=true
	// true SBX-16ED9C6153  <nil>
	// wiped
}
