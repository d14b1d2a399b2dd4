namespace Floyo.Recovery;

/// <summary>
/// A failure the operator can act on. Its message is one line, names the problem, and never
/// contains a secret; front ends print it as <c>error: ...</c>.
/// </summary>
public class RecoveryException(string message, Exception? inner = null) : Exception(message, inner);
