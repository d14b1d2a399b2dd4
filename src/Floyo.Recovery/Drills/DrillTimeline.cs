namespace Floyo.Recovery.Drills;

/// <summary>Times each step; the first failed step ends the drill, and says why.</summary>
public sealed class DrillTimeline(TimeProvider clock)
{
    private readonly List<DrillStep> _steps = [];

    public IReadOnlyList<DrillStep> Steps => _steps;

    public DrillStep? Failed => _steps.FirstOrDefault(s => !s.Succeeded);

    public async Task<T> RunAsync<T>(string name, Func<Task<T>> step, Func<T, string> describe)
    {
        var started = clock.GetUtcNow();
        try
        {
            var result = await step();
            _steps.Add(new DrillStep(name, started, clock.GetUtcNow(), true, describe(result)));
            return result;
        }
        catch (RecoveryException e)
        {
            _steps.Add(new DrillStep(name, started, clock.GetUtcNow(), false, e.Message));
            throw new DrillStepFailedException(name, e);
        }
    }

    /// <summary>A check that ran but did not hold: recorded as a failed step; throw what it returns to end the drill.</summary>
    public DrillStepFailedException Fail(string name, DateTimeOffset started, string why)
    {
        _steps.Add(new DrillStep(name, started, clock.GetUtcNow(), false, why));
        return new DrillStepFailedException(name, new RecoveryException(why));
    }
}

public sealed class DrillStepFailedException(string step, RecoveryException inner) : RecoveryException($"step '{step}' failed: {inner.Message}", inner);
