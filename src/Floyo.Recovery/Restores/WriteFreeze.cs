using System.Text.Json.Serialization;
using Floyo.Recovery.Access;

namespace Floyo.Recovery.Restores;

/// <summary>
/// The restore workflow's view of a stopped database: whether writes were stopped (a target that does not
/// exist yet needs nothing) and the gate's record of who held CONNECT, so the very same grants can be given
/// back, by the workflow or by an operator, once the restore has been checked.
/// </summary>
public sealed record WriteFreeze(string Database, bool Applied, GateRecord? Gate, int TerminatedSessions, string? RecordName)
{
    /// <summary>Nothing to stop: the target does not exist yet.</summary>
    public static WriteFreeze NotNeeded(string database) => new(database, false, null, 0, null);

    /// <summary>The grantees writes were taken from, and are given back to.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> ConnectGrantees => Gate?.Revoked ?? [];

    /// <summary>The statement that reopens the database, for the operator's eyes when the workflow cannot.</summary>
    [JsonIgnore]
    public string ResumeSql => Gate?.ReopenSql ?? "-- writes were not stopped";
}
