using Floyo.Recovery.Secrets;
using Floyo.Recovery.Tests.Support;

namespace Floyo.Recovery.Tests.Secrets;

[Trait("Tier", "Fast")]
public sealed class FileSecretStoreTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private string FilePath => Path.Combine(_dir.Path, "config", "floyo-dr", "secrets.json");

    [Fact]
    public async Task The_file_and_its_folder_are_created_readable_by_the_owner_only()
    {
        var store = new FileSecretStore(FilePath, TimeProvider.System);
        await store.SetAsync("app-db", "value", new Dictionary<string, string>(), null, default);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(FilePath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(FilePath)!));
        // Rewrites keep the mode: the replacement is created 0600 before it is renamed into place.
        await store.SetAsync("app-db", "value-2", new Dictionary<string, string>(), null, default);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(FilePath));
    }

    [Theory]
    [InlineData(UnixFileMode.GroupRead, "0640")]
    [InlineData(UnixFileMode.OtherRead, "0604")]
    [InlineData(UnixFileMode.GroupWrite, "0620")]
    public async Task A_file_others_can_read_or_change_is_refused(UnixFileMode extra, string shown)
    {
        var store = new FileSecretStore(FilePath, TimeProvider.System);
        await store.SetAsync("app-db", "exposed-value", new Dictionary<string, string>(), null, default);
        File.SetUnixFileMode(FilePath, UnixFileMode.UserRead | UnixFileMode.UserWrite | extra);

        var read = await Assert.ThrowsAnyAsync<RecoveryException>(() => store.GetCurrentAsync("app-db", default));
        Assert.Contains($"mode {shown}", read.Message, StringComparison.Ordinal);
        Assert.Contains("chmod 600", read.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorKind.RefusedForSafety, read.Kind);
        Assert.DoesNotContain("exposed-value", read.Message, StringComparison.Ordinal);
        // Writing would read it first: refused too, and the file is left as it was.
        var before = await File.ReadAllBytesAsync(FilePath);
        await Assert.ThrowsAnyAsync<RecoveryException>(() => store.SetAsync("app-db", "other", new Dictionary<string, string>(), null, default));
        Assert.Equal(before, await File.ReadAllBytesAsync(FilePath));
    }

    [Fact]
    public async Task A_corrupt_file_is_reported_without_quoting_it()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
        await File.WriteAllTextAsync(FilePath, "{\"secrets\": {\"app-db\": \"leaked-password-text");
        File.SetUnixFileMode(FilePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var error = await Assert.ThrowsAnyAsync<RecoveryException>(() => new FileSecretStore(FilePath, TimeProvider.System).GetCurrentAsync("app-db", default));
        Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("leaked-password", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_writers_lose_no_version()
    {
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var store = new FileSecretStore(FilePath, TimeProvider.System);
            for (var i = 0; i < 15; i++)
            {
                await store.SetAsync("busy", $"w{w}-{i}", new Dictionary<string, string>(), null, default);
            }
        }));
        await Task.WhenAll(writers);
        var versions = await new FileSecretStore(FilePath, TimeProvider.System).ListVersionsAsync("busy", default);
        Assert.Equal(60, versions.Count);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(FilePath)!, "*.tmp"));
    }

    public void Dispose() => _dir.Dispose();
}
