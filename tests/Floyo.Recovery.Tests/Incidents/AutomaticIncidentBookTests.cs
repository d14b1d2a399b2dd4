using Floyo.Recovery.Configuration;
using Floyo.Recovery.Incidents;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Floyo.Recovery.Tests.Incidents;

/// <summary>The incident a workflow opens: one per cause, a retried step or a replay records nothing twice, and no secret in its text.</summary>
[Trait("Tier", "Fast")]
public sealed class AutomaticIncidentBookTests
{
    private static IncidentTrigger Failure(string occurrence, string key = "shop") =>
        new(IncidentCause.RestoreFailed, key, occurrence, $"Restore into '{key}' failed", NotificationSeverity.Critical, "restore workflow (HTTP)", "failed", $"checksum mismatch ({occurrence})");

    private static async Task<int> VersionsAsync(IBackupStore store, string id)
    {
        var count = 0;
        await foreach (var _ in store.ListAsync(IncidentBook.VersionsPrefix(id), default))
        {
            count++;
        }
        return count;
    }

    [Fact]
    public async Task A_cause_opens_one_incident_a_retry_changes_nothing_and_a_repeat_is_one_change()
    {
        using var dir = new TempDirectory();
        var store = new FilesystemStore(dir.Path);
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 3, 1, 2, 0, 0, TimeSpan.Zero));
        var book = new IncidentBook(store, clock);

        var (opened, isNew, change) = await book.RaiseAsync(Failure("restore-1"), default);
        Assert.True(isNew);
        Assert.Null(change);
        Assert.Equal(IncidentBook.CauseId(IncidentCause.RestoreFailed, "shop"), opened.Id);
        Assert.Equal("restore workflow (HTTP)", opened.OpenedBy);

        // The activity retried (or the orchestration replayed into it): the same answer, nothing written.
        var (again, stillNew, none) = await book.RaiseAsync(Failure("restore-1"), default);
        Assert.Equal(opened.Id, again.Id);
        Assert.True(stillNew);
        Assert.Null(none);
        Assert.Equal(1, await VersionsAsync(store, opened.Id));

        // The same cause failing in another run: one change on the same incident, once however often it is retried.
        clock.Advance(TimeSpan.FromMinutes(10));
        var (repeated, repeatNew, repeat) = await book.RaiseAsync(Failure("restore-2"), default);
        Assert.False(repeatNew);
        Assert.Equal(opened.Id, repeated.Id);
        Assert.StartsWith("failed again (restore-2): checksum mismatch", repeat!.Message, StringComparison.Ordinal);
        Assert.Null((await book.RaiseAsync(Failure("restore-2"), default)).Change);
        Assert.Single((await book.RequireAsync(opened.Id, default)).Changes);
        Assert.Single(await book.ListAsync(default));

        // Another cause is another incident; a resolved one is followed by a new, numbered one.
        Assert.NotEqual(opened.Id, (await book.RaiseAsync(Failure("restore-3", "shop_copy"), default)).Record.Id);
        await book.ChangeAsync(opened.Id, "bob", null, "fixed", null, resolves: true, default);
        var (next, nextNew, _) = await book.RaiseAsync(Failure("restore-4"), default);
        Assert.True(nextNew);
        Assert.Equal($"{opened.Id}-2", next.Id);
        Assert.Equal($"{opened.Id}-2", (await book.RaiseAsync(Failure("restore-5"), default)).Record.Id);
        Assert.Equal($"{opened.Id}-2", (await book.FindByOccurrenceAsync("restore-5", default))!.Id);

        // A stage is recorded once per occurrence, and not at all once a person resolved the incident.
        Assert.NotNull(await book.RecordAsync(next.Id, "breach recovery workflow", "restoring", null, "b-1:restoring", default));
        Assert.Null(await book.RecordAsync(next.Id, "breach recovery workflow", "restoring", null, "b-1:restoring", default));
        Assert.Null(await book.RecordAsync(opened.Id, "breach recovery workflow", "restoring", null, "b-2:restoring", default));
    }

    [Fact]
    public void Cause_ids_are_stable_safe_and_distinct()
    {
        var id = IncidentBook.CauseId(IncidentCause.RestoreFailed, "Shop DB/éte");
        Assert.Equal(id, IncidentBook.CauseId(IncidentCause.RestoreFailed, "Shop DB/éte"));
        Assert.Equal(id, IncidentBook.CheckId(id));
        Assert.StartsWith("restore-failed-shop-db-te-", id, StringComparison.Ordinal);
        Assert.NotEqual(id, IncidentBook.CauseId(IncidentCause.RestoreFailed, "shop_db_te"));
        Assert.NotEqual(id, IncidentBook.CauseId(IncidentCause.DrillFailed, "Shop DB/éte"));
        var longest = IncidentBook.CauseId(IncidentCause.RestoreFailed, new string('x', 200));
        Assert.Equal(longest + "-99", IncidentBook.CheckId(longest + "-99"));
    }

    [Theory]
    [InlineData("could not connect to postgresql://floyo:s3cr3t-pw@db.example:5432/shop: refused", "s3cr3t-pw")]
    [InlineData("Host=db;Username=floyo;Password=s3cr3t-pw;Database=shop failed", "s3cr3t-pw")]
    [InlineData("blob https://acct.blob.core.windows.net/c?sv=2024&sig=s3cr3t-pw denied", "s3cr3t-pw")]
    [InlineData("AccountKey=s3cr3t-pw;EndpointSuffix=core.windows.net", "s3cr3t-pw")]
    public void Incident_text_carries_no_connection_string_or_password(string error, string secret)
    {
        var text = IncidentText.Scrub(error);
        Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        Assert.Contains("(redacted)", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, true, true)]
    [InlineData(null, false, false)]
    [InlineData("true", false, true)]
    [InlineData(" FALSE ", true, false)]
    public void INCIDENT_ON_DRILL_FAILURE_defaults_to_the_host(string? setting, bool hostDefault, bool opens) =>
        Assert.Equal(opens, new IncidentOptions { DrillFailureOpensIncident = setting }.DrillFailureOpens(hostDefault));

    [Fact]
    public void INCIDENT_ON_DRILL_FAILURE_must_be_true_or_false()
    {
        var result = new IncidentOptionsValidator().Validate(null, new IncidentOptions { DrillFailureOpensIncident = "prod" });
        Assert.True(result.Failed);
        Assert.Contains("INCIDENT_ON_DRILL_FAILURE must be true or false", result.FailureMessage, StringComparison.Ordinal);
    }
}
