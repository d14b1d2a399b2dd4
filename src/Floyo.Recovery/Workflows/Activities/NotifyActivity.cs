using Floyo.Recovery.Notifications;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Workflows.Activities;

/// <summary>Sends one notification (INotifier). Idempotent by the notification's id: a retry sends nothing twice.</summary>
public sealed class NotifyActivity(INotifier notifier, WorkflowRuntime runtime, ILogger<NotifyActivity> logger)
    : RecoveryActivity<Notification, NotificationReceipt>(runtime, logger)
{
    protected override Task<NotificationReceipt> ExecuteAsync(Notification input, TaskActivityContext context, CancellationToken ct) =>
        notifier.NotifyAsync(input, ct);
}
