using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Workflows;

/// <summary>
/// Base of every Floyo activity: hands the work the host's shutdown token, and turns failures that pass
/// by themselves into <see cref="TransientFailureException"/>, the only kind the workflows retry.
/// </summary>
public abstract class RecoveryActivity<TInput, TOutput>(WorkflowRuntime runtime, ILogger logger) : TaskActivity<TInput, TOutput>
{
    protected WorkflowRuntime Runtime => runtime;

    public sealed override async Task<TOutput> RunAsync(TaskActivityContext context, TInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            return await ExecuteAsync(input, context, runtime.Stopping);
        }
        catch (OperationCanceledException e) when (runtime.Stopping.IsCancellationRequested)
        {
            // The host is shutting down under this step: the retry policy runs it again once a host is back.
            logger.TransientActivityFailure(context.Name.Name, context.InstanceId, "the host shut down while this step ran", e);
            throw new TransientFailureException("the host shut down while this step ran; it runs again on the next host", e);
        }
        catch (Exception e) when (TransientFailures.IsTransient(e))
        {
            logger.TransientActivityFailure(context.Name.Name, context.InstanceId, e.Message, e);
            if (e is TransientFailureException)
            {
                throw;
            }
            throw new TransientFailureException(e.Message, e);
        }
        catch (Exception e)
        {
            logger.ActivityFailed(context.Name.Name, context.InstanceId, e.Message, e);
            throw;
        }
    }

    protected abstract Task<TOutput> ExecuteAsync(TInput input, TaskActivityContext context, CancellationToken ct);
}
