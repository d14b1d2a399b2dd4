using Floyo.Recovery.Secrets;
using Floyo.Recovery.Workflows.Models;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Workflows.Activities;

/// <summary>The secrets to rotate: tagged <c>floyo-rotation=random</c>, except the database credential itself; other kinds are reported as skipped.</summary>
public sealed class ListSecretsForRotationActivity(ISecretStore store, Microsoft.Extensions.Options.IOptions<Configuration.RotationOptions> options, WorkflowRuntime runtime, ILogger<ListSecretsForRotationActivity> logger)
    : RecoveryActivity<string, SecretsToRotate>(runtime, logger)
{
    protected override async Task<SecretsToRotate> ExecuteAsync(string input, TaskActivityContext context, CancellationToken ct)
    {
        var tagged = (await store.ListTaggedForRotationAsync(ct)).Where(t => t.Name != options.Value.Secret).ToList();
        return new SecretsToRotate(
            [.. tagged.Where(t => t.Tag(SecretTags.Rotation) == SecretTags.Random).Select(t => t.Name)],
            [.. tagged.Where(t => t.Tag(SecretTags.Rotation) != SecretTags.Random).Select(t => $"{t.Name} ({SecretTags.Rotation}={t.Tag(SecretTags.Rotation)} is not handled here)")]);
    }
}
