using Floyo.Recovery.Postgres;
using Floyo.Recovery.Restores;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Workflows;
using Microsoft.DurableTask;

namespace Floyo.Recovery.Tests;

/// <summary>A failure's kind is read from its type, so it survives a workflow boundary where only the type name travels.</summary>
[Trait("Tier", "Fast")]
public sealed class ErrorKindTests
{
    public static TheoryData<Exception, ErrorKind> Failures => new()
    {
        { new RecoveryException("x"), ErrorKind.General },
        { new UsageException("x"), ErrorKind.Usage },
        { new ConfigurationException("x"), ErrorKind.Configuration },
        { new ObjectNotFoundException("db_full_20260101_000000.dump.zst"), ErrorKind.NotFound },
        { new AdminCapabilityException("x"), ErrorKind.RefusedForSafety },
        { new ObjectProtectedException("b", "legal hold"), ErrorKind.RefusedForSafety },
        { new ChecksumMismatchException("x"), ErrorKind.Integrity },
        { new TransientFailureException("x"), ErrorKind.Unavailable },
        { new InvalidOperationException("x"), ErrorKind.General },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void The_kind_is_the_same_in_process_and_after_a_workflow_boundary(Exception failure, ErrorKind kind)
    {
        Assert.Equal(kind, ErrorKinds.Of(failure));
        // What Durable Task records of an activity's failure, and what an orchestrator catches.
        var details = Recorded(failure);
        Assert.Equal(kind, ErrorKinds.Of(details));
        Assert.Equal(kind, ErrorKinds.Of(new TaskFailedException("Step", 1, details)));
        // An orchestration that did not catch it: the activity's failure is the inner one.
        Assert.Equal(kind, ErrorKinds.Of(new TaskFailureDetails(typeof(TaskFailedException).FullName!, "wrapped", null, details, null)));
    }

    [Theory]
    [InlineData(ErrorKind.General)]
    [InlineData(ErrorKind.Usage)]
    [InlineData(ErrorKind.Configuration)]
    [InlineData(ErrorKind.NotFound)]
    [InlineData(ErrorKind.RefusedForSafety)]
    [InlineData(ErrorKind.Integrity)]
    [InlineData(ErrorKind.Unavailable)]
    public void Re_throwing_by_kind_keeps_the_kind_and_the_one_line_message(ErrorKind kind)
    {
        var again = RecoveryException.Of(kind, "the same words");
        Assert.Equal(kind, again.Kind);
        Assert.Equal("the same words", again.Message);
        Assert.Equal(kind, ErrorKinds.Of(Recorded(again)));
    }

    // The worker records a failure as its type's full name and its message (TaskFailureDetails.FromException).
    private static TaskFailureDetails Recorded(Exception e) => new(e.GetType().FullName!, e.Message, null, null, null);

    [Fact]
    public void Exit_codes_are_distinct_and_leave_room_for_postgres_and_signals()
    {
        var codes = Enum.GetValues<ErrorKind>().Select(k => (int)k).ToList();
        Assert.Equal(codes.Count, codes.Distinct().Count());
        // restore_command treats an exit above 125 as fatal; 130 is a cancellation.
        Assert.All(codes, c => Assert.InRange(c, 1, 125));
    }
}
