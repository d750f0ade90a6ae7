// Package notifications defines Notifications: a KMS-encrypted SNS topic
// for what the golden-image platform does, with optional email subscribers
// and a Go function that posts each message to Slack.
//
//	n := notifications.NewNotifications(stack, jsii.String("Notifications"), &notifications.NotificationsProps{
//		SlackWebhookSecret: awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("Slack"), jsii.String(arn)),
//		EmailAddresses:     jsii.Strings("platform@example.com"),
//	})
//	n.NotifyImages(pipeline)
//	n.NotifyDecisions(trigger)
//	n.NotifyPipeline(deliveryPipeline.Pipeline())
package notifications
