using System.Text.Json;
using Microsoft.DurableTask.Client;

namespace Floyo.Functions.Http;

/// <summary>Looking up the workflows the API started, without letting a caller name anything else.</summary>
internal static class DurableQueries
{
    /// <summary>The instance, if the id has the API's prefix and shape and names an <paramref name="orchestrator"/> run.</summary>
    public static async Task<OrchestrationMetadata?> FindAsync(DurableTaskClient client, string id, string prefix, string orchestrator, CancellationToken ct)
    {
        if (!id.StartsWith(prefix, StringComparison.Ordinal) || id.Length > 100 || id.Any(c => !char.IsAsciiLetterOrDigit(c) && c != '-'))
        {
            return null;
        }
        var state = await client.GetInstanceAsync(id, getInputsAndOutputs: true, ct);
        return state?.Name == orchestrator ? state : null;
    }

    /// <summary>The API's instances with <paramref name="prefix"/> that have not finished, inputs included.</summary>
    public static IAsyncEnumerable<OrchestrationMetadata> Unfinished(DurableTaskClient client, string prefix) =>
        client.GetAllInstancesAsync(new OrchestrationQuery
        {
            InstanceIdPrefix = prefix,
            Statuses = [OrchestrationRuntimeStatus.Pending, OrchestrationRuntimeStatus.Running, OrchestrationRuntimeStatus.Suspended],
            FetchInputsAndOutputs = true,
        });

    /// <summary>The orchestration's custom status as <typeparamref name="T"/>; null when absent or not of that shape.</summary>
    public static T? CustomStatus<T>(OrchestrationMetadata state)
        where T : class
    {
        if (state.SerializedCustomStatus is not { Length: > 0 } status)
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<T>(status);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
